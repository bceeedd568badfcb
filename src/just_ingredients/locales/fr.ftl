## Images refusées (les clés sont le `code` de vision.intake.ImageRejected et de ses sous-classes)
image_rejected = Ce fichier ne peut pas être lu comme une image. Envoyez une photo (JPEG, PNG, WebP, BMP ou TIFF).
image_empty = Ce fichier est vide (0 octet). Renvoyez la photo, s’il vous plaît.
image_unsupported_format = Ce type de fichier n’est pas pris en charge. Envoyez une photo (JPEG, PNG, WebP, BMP ou TIFF).
image_corrupt = Cette image semble abîmée ou incomplète. Renvoyez-la, s’il vous plaît.
image_too_large = Ce fichier est trop lourd (limite : { $limit_mb } Mo). Envoyez une photo plus petite.
image_too_many_pixels = Cette image a trop de pixels pour être lue sans risque. Envoyez une photo plus petite.
image_too_small = Cette image est trop petite pour être lue. Envoyez une photo plus grande.

## Pannes de lecture (les clés sont le `code` de vision.result.OcrError et de ses sous-classes)
ocr_error = Un problème est survenu pendant la lecture de la photo. Réessayez, s’il vous plaît.
ocr_timeout = La lecture de cette photo a pris trop de temps. Réessayez, ou envoyez une photo plus nette et plus proche.
ocr_failed = Un problème est survenu pendant la lecture de la photo. Réessayez dans un instant.
ocr_circuit_open = La lecture des photos est suspendue un instant après plusieurs échecs. Réessayez dans une minute.
ocr_no_text = Je n’ai trouvé aucun texte sur cette photo. Essayez une photo plus nette, plus proche de la liste, bien éclairée.
ocr_tessdata_missing = Le lecteur de texte n’est pas installé correctement. L’administrateur a été prévenu.

## Résultats
no_ingredients = J’ai trouvé du texte mais aucun ingrédient. Envoyez une photo de la liste des ingrédients elle-même.
