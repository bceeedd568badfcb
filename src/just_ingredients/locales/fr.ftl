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
image_bad_aspect_ratio = Cette image est trop longue et étroite pour être une page. Envoyez une photo de la liste.

## Bot: commands (setMyCommands) and help
cmd_start = Démarrer : ce que fait ce bot
cmd_help = Toutes les commandes
cmd_recipes = Vos recettes enregistrées
cmd_search = Chercher dans vos recettes : /search farine
cmd_export = Télécharger vos recettes (JSON, CSV ou Markdown)
cmd_language = Choisir la langue
cmd_cancel = Arrêter la relecture ou la question en cours
start = Bonjour { $name } ! Envoyez-moi la photo de la liste d'ingrédients d'une recette : j'en fais une recette à corriger, enregistrer et retrouver. Ajoutez une légende pour lui donner un nom.
help =
    Envoyez une photo (ou un fichier image) d'une liste d'ingrédients. La légende devient le nom de la recette.
    Je montre ce que j'ai lu ; corrigez, supprimez ou ajoutez des lignes, puis enregistrez.

    /start — ce que fait ce bot
    /help — cette liste
    /recipes — vos recettes enregistrées
    /search TEXTE — chercher une recette par nom ou ingrédient
    /export — télécharger vos recettes (/export csv pour un tableur, /export md pour Markdown)
    /language — choisir le français ou l'anglais
    /cancel — arrêter la relecture ou la question en cours

## Bot: reading a photo and the review
reading_photo = 📷 Lecture de votre photo…
reading_photo_again = 📷 J'ai été interrompu pendant la lecture de votre photo — je la relis…
ocr_queued = ⏳ Beaucoup de photos sont en cours de lecture — la vôtre est numéro { $position } dans la file. Je répondrai ici.
ocr_busy = Je lis trop de photos en ce moment. Renvoyez la vôtre dans une minute.
review_untitled = Recette sans nom
review_header = { $count ->
    [one] 1 ingrédient
   *[other] { $count } ingrédients
}
review_empty = Il ne reste aucun ingrédient. Ajoutez une ligne, envoyez une autre photo ou annulez.
review_doubtful = ⚠️ = je ne suis pas sûr d'avoir bien lu cette ligne ; touchez ✏️ pour la corriger.
review_hint = Envoyez une autre photo pour ajouter ses ingrédients à cette recette.
review_added = { $count ->
    [one] 1 ingrédient ajouté depuis cette photo.
   *[other] { $count } ingrédients ajoutés depuis cette photo.
}
review_nothing_added = Je n'ai trouvé aucun ingrédient sur cette photo ; la relecture ci-dessous n'a pas changé.
btn_edit = ✏️ { $n }
btn_delete = 🗑 { $n }
btn_add = ➕ Ajouter une ligne
btn_rename = 🏷 Renommer
btn_confirm = ✅ Enregistrer
btn_cancel = ✖️ Annuler
ask_edit = Envoyez la ligne { $n } corrigée :
    { $line }
ask_edit_crop = Voici la ligne { $n } de votre photo. Envoyez la ligne corrigée.
ask_add = Envoyez la ou les lignes à ajouter, par ex. « 2 œufs » ou « 200 g de farine ».
ask_name = Envoyez un nom pour cette recette.
ask_name_to_save = Quel nom donner à cette recette ? Envoyez-le et je l'enregistre.
line_not_ingredient = Je ne trouve pas d'ingrédient dans ce texte. Envoyez une ligne comme « 2 œufs » ou « 150 g de farine ».
line_no_name = Cette ligne a une quantité mais pas de nom d'ingrédient. Envoyez une ligne comme « 150 g de farine ».
line_too_long = Cette ligne est trop longue (300 caractères au plus par ingrédient).
name_invalid = Un nom de recette a de 1 à 255 caractères. Envoyez un autre nom.
line_updated = Ligne { $n } modifiée.
saved = ✅ « { $name } » enregistrée avec { $count ->
    [one] 1 ingrédient
   *[other] { $count } ingrédients
}.
cancelled = Relecture annulée ; rien n'a été enregistré.
input_cancelled = D'accord, je n'attends plus cette réponse. La relecture reste ouverte.
nothing_to_cancel = Il n'y a rien à annuler.
btn_send_another = 📷 Envoyer une autre
btn_my_recipes = 📚 Mes recettes
btn_search = 🔎 Chercher
send_another = Envoyez-moi la photo suivante.
search_prompt = Envoyez /search suivi de mots du nom ou d'un ingrédient, par ex. /search farine
review_busy = Terminez ou annulez (/cancel) d'abord la relecture en cours.
stale_button = Ce bouton n'est plus valable.

## Bot: saved recipes
recipes_empty = Vous n'avez encore aucune recette. Envoyez-moi une photo pour commencer.
recipes_page = Vos recettes ({ $first }–{ $last } sur { $total }) :
recipe_line = { $n }. { $name } — { $count } ingr.
btn_prev = ◀️
btn_next = ▶️
btn_back = ⬅️ Retour
btn_recipe_rename = 🏷 Renommer
btn_recipe_edit = ✏️ Modifier les ingrédients
btn_recipe_delete = 🗑 Supprimer
btn_yes_delete = Oui, supprimer
btn_no = Non
confirm_delete = Supprimer « { $name } » ? C'est définitif.
recipe_deleted = « { $name } » supprimée.
recipe_gone = Cette recette n'existe plus.
recipe_renamed = Renommée en « { $name } ».
recipe_updated = ✅ « { $name } » mise à jour.
ask_recipe_name = Envoyez le nouveau nom de « { $name } ».
search_usage = Envoyez /search suivi de mots, par ex. /search farine
search_none = Aucune recette ne correspond à « { $query } ».
search_results = Recettes correspondant à « { $query } » ({ $total }) :
export_usage = Choisissez un format : /export (JSON), /export csv (tableur) ou /export md (Markdown).
export_empty = Vous n'avez encore aucune recette à exporter.
export_caption = { $count ->
    [one] Votre recette.
   *[other] Vos { $count } recettes.
}
language_prompt = Choisissez votre langue :
language_set = Je parlerai français désormais.

## Bot: anything else
send_photo = Envoyez-moi la photo d'une liste d'ingrédients, ou /help.
use_buttons = Utilisez les boutons de la relecture ci-dessus, envoyez une autre photo, ou /cancel.
unsupported_sticker = Joli autocollant ! Mais je ne sais lire que des photos de listes d'ingrédients.
unsupported_voice = Je ne peux pas écouter les messages vocaux ou audio. Envoyez une photo de la liste d'ingrédients.
unsupported_video = Je ne peux pas lire les vidéos. Envoyez une photo de la liste d'ingrédients.
unsupported_location = Je n'ai pas besoin d'une position. Envoyez une photo d'une liste d'ingrédients.
unsupported_contact = Je n'ai pas besoin de contacts. Envoyez une photo d'une liste d'ingrédients.
unsupported_poll = Je ne participe pas aux sondages. Envoyez une photo d'une liste d'ingrédients.
unsupported_dice = 🎲 Amusant, mais je ne sais lire que des photos de listes d'ingrédients.
unsupported_document = Ce fichier n'est pas une image. Envoyez une photo (JPEG, PNG, WebP, BMP ou TIFF).
unsupported_message = Je ne sais pas lire ce type de message. Envoyez une photo d'une liste d'ingrédients.
edited_ignored = Je ne lis que les nouveaux messages, pas les modifications. Renvoyez le texte dans un nouveau message.
error_generic = Un problème est survenu. Veuillez réessayer.
error_database = Je n'arrive pas à joindre mon stockage pour l'instant. Rien n'est perdu ; réessayez dans une minute.
update_abandoned = Désolé, j'ai été interrompu deux fois en traitant votre dernier message et j'ai abandonné. Renvoyez-le, s'il vous plaît.
