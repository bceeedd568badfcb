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
image_bad_aspect_ratio = This picture is too long and thin to be a page. Please send a photo of the list.

## Bot: commands (setMyCommands) and help
cmd_start = Start: what this bot does
cmd_help = All commands
cmd_recipes = Your saved recipes
cmd_search = Search your recipes: /search flour
cmd_export = Download your recipes (JSON, CSV or Markdown)
cmd_language = Choose the language
cmd_cancel = Stop the current review or question
start = Hello { $name }! Send me a photo of a recipe's ingredient list and I'll turn it into a recipe you can edit, save and search. Add a caption to name the recipe.
help =
    Send a photo (or an image file) of an ingredient list. The caption becomes the recipe name.
    I show what I read; fix, delete or add lines, then save.

    /start — what this bot does
    /help — this list
    /recipes — your saved recipes
    /search TEXT — search your recipes by name or ingredient
    /export — download your recipes (/export csv for a spreadsheet, /export md for Markdown)
    /language — choose English or French
    /cancel — stop the current review or question

## Bot: reading a photo and the review
reading_photo = 📷 Reading your photo…
reading_photo_again = 📷 I was interrupted while reading your photo — reading it again…
ocr_queued = ⏳ Many photos are being read right now — yours is number { $position } in the queue. I'll answer here.
ocr_busy = I'm reading too many photos right now. Please send yours again in a minute.
review_untitled = Untitled recipe
review_header = { $count ->
    [one] 1 ingredient
   *[other] { $count } ingredients
}
review_empty = No ingredients left. Add a line, send another photo, or cancel.
review_doubtful = ⚠️ = I'm not sure I read this line right; tap ✏️ to fix it.
review_hint = Send another photo to add its ingredients to this recipe.
review_added = { $count ->
    [one] Added 1 ingredient from this photo.
   *[other] Added { $count } ingredients from this photo.
}
review_nothing_added = I found no ingredients in this photo; the review below is unchanged.
btn_edit = ✏️ { $n }
btn_delete = 🗑 { $n }
btn_add = ➕ Add a line
btn_rename = 🏷 Rename
btn_confirm = ✅ Save
btn_cancel = ✖️ Cancel
ask_edit = Send the corrected line { $n }:
    { $line }
ask_edit_crop = This is line { $n } in your photo. Send the corrected line.
ask_add = Send the ingredient line(s) to add, e.g. “2 eggs” or “200 g de farine”.
ask_name = Send a name for this recipe.
ask_name_to_save = What should this recipe be called? Send its name and I'll save it.
line_not_ingredient = I couldn't find an ingredient in that text. Send a line like “2 eggs” or “150 g flour”.
line_no_name = That line has an amount but no ingredient name. Send a line like “150 g flour”.
line_too_long = That line is too long (at most 300 characters per ingredient).
name_invalid = A recipe name needs 1 to 255 characters. Send another name.
line_updated = Line { $n } updated.
saved = ✅ Saved “{ $name }” with { $count ->
    [one] 1 ingredient
   *[other] { $count } ingredients
}.
cancelled = Review cancelled; nothing was saved.
input_cancelled = OK, I'm no longer waiting for that. The review is still open.
nothing_to_cancel = There's nothing to cancel.
btn_send_another = 📷 Send another
btn_my_recipes = 📚 My recipes
btn_search = 🔎 Search
send_another = Send me the next photo.
search_prompt = Send /search followed by words from a recipe name or an ingredient, e.g. /search flour
review_busy = Finish or /cancel the review in progress first.
stale_button = This button is no longer valid.

## Bot: saved recipes
recipes_empty = You have no saved recipes yet. Send me a photo to start.
recipes_page = Your recipes ({ $first }–{ $last } of { $total }):
recipe_line = { $n }. { $name } — { $count } ing.
btn_prev = ◀️
btn_next = ▶️
btn_back = ⬅️ Back
btn_recipe_rename = 🏷 Rename
btn_recipe_edit = ✏️ Edit ingredients
btn_recipe_delete = 🗑 Delete
btn_yes_delete = Yes, delete
btn_no = No
confirm_delete = Delete “{ $name }”? This can't be undone.
recipe_deleted = Deleted “{ $name }”.
recipe_gone = This recipe no longer exists.
recipe_renamed = Renamed to “{ $name }”.
recipe_updated = ✅ “{ $name }” updated.
ask_recipe_name = Send the new name for “{ $name }”.
search_usage = Send /search followed by words, e.g. /search flour
search_none = No recipe matches “{ $query }”.
search_results = Recipes matching “{ $query }” ({ $total }):
export_usage = Choose a format: /export (JSON), /export csv (spreadsheet) or /export md (Markdown).
export_empty = You have no recipes to export yet.
export_caption = { $count ->
    [one] Your recipe.
   *[other] Your { $count } recipes.
}
language_prompt = Choose your language:
language_set = I'll speak English from now on.

## Bot: anything else
send_photo = Send me a photo of an ingredient list, or /help.
use_buttons = Use the buttons of the review above, send another photo, or /cancel.
unsupported_sticker = Nice sticker! I can only read photos of ingredient lists, though.
unsupported_voice = I can't listen to voice or audio messages. Please send a photo of the ingredient list.
unsupported_video = I can't read videos. Please send a photo of the ingredient list.
unsupported_location = I don't need a location. Please send a photo of an ingredient list.
unsupported_contact = I don't need contacts. Please send a photo of an ingredient list.
unsupported_poll = I can't take part in polls. Please send a photo of an ingredient list.
unsupported_dice = 🎲 Fun, but I can only read photos of ingredient lists.
unsupported_document = This file isn't a picture. Please send a photo (JPEG, PNG, WebP, BMP or TIFF).
unsupported_message = I can't read this kind of message. Please send a photo of an ingredient list.
edited_ignored = I only read new messages, not edits. Send the text again as a new message.
error_generic = Something went wrong. Please try again.
error_database = I can't reach my storage right now. Nothing was lost; please try again in a minute.
update_abandoned = Sorry, I was interrupted twice while handling your last message and gave up on it. Please send it again.
