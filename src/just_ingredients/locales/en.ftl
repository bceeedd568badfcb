## Refused images (keys are the `code` of vision.intake.ImageRejected and its subclasses)
image_rejected = This file can't be read as a picture. Please send a photo (JPEG, PNG, WebP, BMP or TIFF).
image_empty = This file is empty (0 bytes). Please send the photo again.
image_unsupported_format = This kind of file isn't supported. Please send a photo (JPEG, PNG, WebP, BMP or TIFF).
image_corrupt = This picture looks damaged or incomplete. Please send it again.
image_too_large = This file is too big (the limit is { $limit_mb } MB). Please send a smaller photo.
image_too_many_pixels = This picture has too many pixels to read safely. Please send a smaller photo.
image_too_small = This picture is too small to read. Please send a larger photo.

## OCR faults (keys are the `code` of vision.result.OcrError and its subclasses)
ocr_error = Something went wrong while reading the photo. Please try again.
ocr_timeout = Reading this photo took too long. Please try again, or send a sharper, closer photo.
ocr_failed = Something went wrong while reading the photo. Please try again in a moment.
ocr_circuit_open = Photo reading is paused for a moment after several failures. Please try again in a minute.
ocr_no_text = I couldn't find any text in this photo. Try a sharper photo, closer to the list, in good light.
ocr_tessdata_missing = The text reader is not installed correctly. The administrator has been told.

## Results
no_ingredients = I found text but no ingredients in it. Send a photo of the ingredient list itself.
