"""parse_line: quantities, units, names and comments of single lines."""

from __future__ import annotations

import pytest

from just_ingredients.domain import Amount
from just_ingredients.parsing import parse_line


def _qun(text: str, lang: str | None = None) -> tuple[float | None, str | None, str]:
    ing = parse_line(text, lang)  # type: ignore[arg-type]
    assert ing is not None
    q = None if ing.quantity is None else round(ing.quantity, 4)
    return q, ing.unit, ing.name


# ---------------------------------------------------------------- quantities
@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("2 eggs", 2),
        ("1.5 kg flour", 1.5),
        ("1,5 kg de pommes de terre", 1.5),
        (".5 cup milk", 0.5),
        ("1/2 cup sugar", 0.5),
        ("3 / 4 cup sugar", 0.75),
        ("½ cup sugar", 0.5),
        ("¼ tsp salt", 0.25),
        ("¾ cup milk", 0.75),
        ("⅓ cup oil", 0.3333),
        ("⅔ cup oil", 0.6667),
        ("⅛ tsp nutmeg", 0.125),
        ("⅕ cup flour", 0.2),
        ("⅞ cup flour", 0.875),
        ("1⁄2 cup flour", 0.5),
        ("1 1/2 cups flour", 1.5),
        ("1½ cups flour", 1.5),
        ("1 ½ cups flour", 1.5),
        ("1-1/2 cups flour", 1.5),
        ("2 1⁄4 cups flour", 2.25),
    ],
)
def test_numeric_quantities(text: str, quantity: float) -> None:
    assert _qun(text)[0] == pytest.approx(quantity, abs=1e-3)


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("2-3 carrots", 2, 3),
        ("2–3 carrots", 2, 3),
        ("2 à 3 carottes", 2, 3),
        ("2 to 3 tablespoons oil", 2, 3),
        ("2 or 3 apples", 2, 3),
        ("2 ou 3 pommes", 2, 3),
        ("1-2 bay leaves", 1, 2),
    ],
)
def test_ranges_set_quantity_max(text: str, low: float, high: float) -> None:
    ing = parse_line(text)
    assert ing is not None
    assert (ing.quantity, ing.quantity_max) == (low, high)


@pytest.mark.parametrize(
    ("text", "quantity", "name"),
    [
        ("one onion", 1, "onion"),
        ("a pinch of salt", 1, "salt"),
        ("an egg", 1, "egg"),
        ("a dozen eggs", 12, "eggs"),
        ("half a cup of milk", 0.5, "milk"),
        ("two cloves garlic", 2, "garlic"),
        ("un oignon", 1, "oignon"),
        ("une pincée de sel", 1, "sel"),
        ("une demi botte de persil", 0.5, "persil"),
        ("deux œufs", 2, "œufs"),
        ("trois carottes", 3, "carottes"),
        ("une douzaine d'huîtres", 12, "huîtres"),
    ],
)
def test_number_words(text: str, quantity: float, name: str) -> None:
    q, _, got_name = _qun(text)
    assert q == quantity
    assert got_name == name


def test_a_few_and_un_peu_are_not_quantities() -> None:
    assert _qun("a few thyme leaves")[0] is None
    ing = parse_line("un peu de persil haché")
    assert ing is not None
    assert (ing.quantity, ing.name) == (None, "persil")
    assert "un peu de" in (ing.comment or "")


@pytest.mark.parametrize(
    ("text", "quantity", "unit", "name"),
    [
        ("500g butter", 500, "g", "butter"),
        ("8large eggs", 8, None, "eggs"),
        ("2x eggs", 2, None, "eggs"),
        ("250ml milk", 250, "ml", "milk"),
        ("1kg potatoes", 1, "kg", "potatoes"),
    ],
)
def test_glued_forms(text: str, quantity: float, unit: str | None, name: str) -> None:
    assert _qun(text) == (quantity, unit, name)


@pytest.mark.parametrize(
    ("text", "first", "alternative"),
    [
        ("150g/5¼oz butter", (150, "g"), Amount(5.25, None, "oz", "oz")),
        ("1 cup (240 ml) milk", (1, "cup"), Amount(240, None, "ml", "ml")),
        ("250 g (9 oz) flour", (250, "g"), Amount(9, None, "oz", "oz")),
        ("1 teaspoon / 4 grams yeast", (1, "tsp"), Amount(4, None, "g", "grams")),
    ],
)
def test_alternative_amounts_first_wins(
    text: str, first: tuple[float, str], alternative: Amount
) -> None:
    ing = parse_line(text)
    assert ing is not None
    assert (ing.quantity, ing.unit) == first
    assert ing.alternatives == (alternative,)


@pytest.mark.parametrize("text", ["Y% cup sugar", "% tsp salt", "%", "Y%", "1/0 cup", "¤¤¤"])
def test_ocr_fraction_garbage_is_never_a_quantity(text: str) -> None:
    ing = parse_line(text)
    if ing is not None:
        assert ing.quantity is None or ing.quantity >= 0
        assert text != "Y% cup sugar" or (ing.quantity is None and ing.confidence < 0.75)


def test_ocr_l_for_one_in_a_fraction() -> None:
    assert _qun("l/2 cup flour") == (0.5, "cup", "flour")
    assert _qun("|/2 cup flour") == (0.5, "cup", "flour")


# ---------------------------------------------------------------- units
@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("5 mg saffron", "mg"),
        ("200 g sugar", "g"),
        ("200 grammes de sucre", "g"),
        ("1 kilo de farine", "kg"),
        ("4 oz. cheese", "oz"),
        ("4 ounces cheese", "oz"),
        ("2 lbs beef", "lb"),
        ("1 pound beef", "lb"),
        ("100 ml milk", "ml"),
        ("20 cl de crème", "cl"),
        ("1 dl de lait", "dl"),
        ("1 l d'eau", "l"),
        ("1 litre de lait", "l"),
        ("1 tsp salt", "tsp"),
        ("1 t. salt", "tsp"),
        ("1 teaspoon salt", "tsp"),
        ("1 tbsp oil", "tbsp"),
        ("1 Tbsp. oil", "tbsp"),
        ("1 T butter", "tbsp"),
        ("2 tablespoons oil", "tbsp"),
        ("1 cup flour", "cup"),
        ("2 cups flour", "cup"),
        ("2 c. flour", "cup"),
        ("4 fl oz cream", "floz"),
        ("4 fl. oz. cream", "floz"),
        ("1 pint cream", "pint"),
        ("1 quart stock", "quart"),
        ("1 gallon water", "gallon"),
        ("1 pinch salt", "pinch"),
        ("1 dash Tabasco", "dash"),
        ("3 drops vanilla", "drop"),
        ("2 cloves garlic", "clove"),
        ("2 slices bread", "slice"),
        ("1 can tomatoes", "can"),
        ("1 jar pesto", "jar"),
        ("1 bottle wine", "bottle"),
        ("1 packet yeast", "packet"),
        ("1 sachet de levure", "sachet"),
        ("1 bag spinach", "bag"),
        ("2 sticks butter", "stick"),
        ("2 pieces chicken", "piece"),
        ("1 bunch parsley", "bunch"),
        ("3 sprigs thyme", "sprig"),
        ("2 leaves basil", "leaf"),
        ("1 handful rocket", "handful"),
        ("1 knob butter", "knob"),
        ("2 cubes sugar", "cube"),
        ("4 sheets filo", "sheet"),
        ("1 bar chocolate", "bar"),
        ("2 fillets salmon", "fillet"),
        ("2 stalks celery", "stalk"),
        ("3 pods cardamom", "pod"),
        ("1 head garlic", "head"),
        ("1 glass milk", "glass"),
    ],
)
def test_every_canonical_unit_in_english(text: str, unit: str) -> None:
    assert _qun(text)[1] == unit


@pytest.mark.parametrize(
    ("text", "unit", "name"),
    [
        ("1 cuillère à soupe d'huile", "tbsp", "huile"),
        ("2 cuillères à soupe de sucre", "tbsp", "sucre"),
        ("1 c. à s. de miel", "tbsp", "miel"),
        ("1 c.à.s de miel", "tbsp", "miel"),
        ("1 cs de miel", "tbsp", "miel"),
        ("1 CS de miel", "tbsp", "miel"),
        ("2 càs de moutarde", "tbsp", "moutarde"),
        ("1 cuil. à café de sel", "tsp", "sel"),
        ("1 c. à c. de sel", "tsp", "sel"),
        ("1 cc de cumin", "tsp", "cumin"),
        ("1 cuillère à café de sel", "tsp", "sel"),
        ("2 cuillerées de crème", "tbsp", "crème"),
        ("2 gousses d'ail", "clove", "ail"),
        ("1 pincée de sel", "pinch", "sel"),
        ("1 boîte de maïs", "can", "maïs"),
        ("1 verre de vin", "glass", "vin"),
        ("1 sachet de levure", "sachet", "levure"),
        ("1 noix de beurre", "knob", "beurre"),
        ("3 brins de thym", "sprig", "thym"),
        ("1 botte de radis", "bunch", "radis"),
        ("1 feuille de laurier", "leaf", "laurier"),
        ("4 tranches de jambon", "slice", "jambon"),
        ("4 filets de cabillaud", "fillet", "cabillaud"),
        ("1 tablette de chocolat", "bar", "chocolat"),
        ("1 bâton de cannelle", "stick", "cannelle"),
        ("1 morceau de gingembre", "piece", "gingembre"),
        ("1 poignée de noix", "handful", "noix"),
        ("1 tige de citronnelle", "stalk", "citronnelle"),
        ("1 cube de bouillon", "cube", "bouillon"),
        ("1 rouleau de pâte feuilletée", "roll", "pâte feuilletée"),
        ("1 bûche de chèvre", "log", "chèvre"),
        ("3 pots de farine", "pot", "farine"),
        ("1 dose de safran", "dose", "safran"),
    ],
)
def test_french_units_and_partitive(text: str, unit: str, name: str) -> None:
    assert _qun(text)[1:] == (unit, name)


@pytest.mark.parametrize(
    ("text", "unit", "name"),
    [
        ("1 filet de saumon", "fillet", "saumon"),
        ("un filet d'huile d'olive", "drizzle", "huile d'olive"),
        ("1 gousse de vanille", "pod", "vanille"),
        ("2 gousses d'ail", "clove", "ail"),
        ("2 feuilles de gélatine", "sheet", "gélatine"),
        ("2 feuilles de basilic", "leaf", "basilic"),
        ("1 noix de coco", None, "noix de coco"),
        ("1 bouquet garni", None, "bouquet garni"),
        ("1 bouquet de persil", "bunch", "persil"),
    ],
)
def test_unit_depends_on_what_follows(text: str, unit: str | None, name: str) -> None:
    assert _qun(text)[1:] == (unit, name)


@pytest.mark.parametrize(
    ("text", "unit", "name"),
    [
        ("1 large onion", None, "onion"),
        ("2 cloves garlic", "clove", "garlic"),
        ("3 garlic cloves", "clove", "garlic"),
        ("1 cup sugar", "cup", "sugar"),
        ("2 cupcakes", None, "cupcakes"),
        ("1 lemon", None, "lemon"),
        ("2 large eggs", None, "eggs"),
        ("4 tomatoes", None, "tomatoes"),
        ("2 leeks", None, "leeks"),
        ("1 tin of chopped tomatoes", "can", "chopped tomatoes"),
        ("4 fresh basil leaves", None, "fresh basil leaves"),
        ("2 c. flour", "cup", "flour"),
    ],
)
def test_units_do_not_eat_names(text: str, unit: str | None, name: str) -> None:
    assert _qun(text, "en")[1:] == (unit, name)


def test_unit_text_is_the_unit_as_written() -> None:
    ing = parse_line("2 Tbsp. butter")
    assert ing is not None
    assert (ing.unit, ing.unit_text) == ("tbsp", "Tbsp.")
    ing = parse_line("1 c. à soupe de sucre")
    assert ing is not None
    assert ing.unit_text == "c. à soupe"


# ---------------------------------------------------------------- names and comments
@pytest.mark.parametrize(
    ("text", "name", "comment"),
    [
        ("2 onions, chopped", "onions", "chopped"),
        ("1 onion, finely diced", "onion", "finely diced"),
        ("50 g walnuts (optional)", "walnuts", "(optional)"),
        ("salt, to taste", "salt", "to taste"),
        ("salt to taste", "salt", "to taste"),
        ("2 œufs à température ambiante", "œufs", "à température ambiante"),
        ("125 g de beurre doux coupé en dés", "beurre doux", "coupé en dés"),
        ("3 gousses d'ail hachées", "ail", "hachées"),
        ("1 boîte de tomates concassées (400 g)", "tomates concassées", "(400 g)"),
        ("3 tbsp roughly chopped fresh coriander", "fresh coriander", "roughly chopped"),
    ],
)
def test_modifiers_go_to_comment(text: str, name: str, comment: str) -> None:
    ing = parse_line(text)
    assert ing is not None
    assert ing.name == name
    assert comment in (ing.comment or "")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("250 g de farine", "farine"),
        ("1 l d'eau", "eau"),
        ("1 l d’eau", "eau"),
        ("1 litre du lait", "lait"),
        ("200 g des amandes", "amandes"),
        ("1 pincée de la poudre", "poudre"),
        ("1/4 de chou", "chou"),
    ],
)
def test_french_partitive_dropped(text: str, name: str) -> None:
    assert _qun(text)[2] == name


@pytest.mark.parametrize(
    ("text", "name"),
    [("3 œufs", "œufs"), ("2 onions", "onions"), ("6 pommes de terre", "pommes de terre")],
)
def test_quantity_only_lines_have_no_unit(text: str, name: str) -> None:
    q, unit, got = _qun(text)
    assert q is not None
    assert (unit, got) == (None, name)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("sel, poivre", "sel, poivre"),
        ("Salt and pepper", "Salt and pepper"),
        ("poivre noir", "poivre noir"),
    ],
)
def test_no_quantity_lines_keep_the_name(text: str, name: str) -> None:
    assert _qun(text) == (None, None, name)


def test_raw_is_exactly_the_input() -> None:
    text = "  •  2  cups   flour  "
    ing = parse_line(text)
    assert ing is not None
    assert ing.raw == text
    assert (ing.quantity, ing.unit, ing.name) == (2, "cup", "flour")


@pytest.mark.parametrize("bullet", ["•", "-", "*", "–", "·", "o", "□"])
def test_bullets_are_stripped(bullet: str) -> None:
    assert _qun(f"{bullet} 2 cups flour") == (2, "cup", "flour")


def test_curly_quotes_and_double_spaces() -> None:
    assert _qun("2  gousses  d’ail") == (2, "clove", "ail")


def test_confidence_is_lower_for_empty_or_garbled_names() -> None:
    good = parse_line("2 cups flour")
    empty = parse_line("2 cups")
    garbled = parse_line("2 cups fl%ur")
    assert good is not None
    assert empty is not None
    assert garbled is not None
    assert good.confidence == 1.0
    assert empty.confidence < 0.75
    assert garbled.confidence < good.confidence


@pytest.mark.parametrize("text", ["", "   ", "\t", "---", "•"])
def test_empty_lines_give_none(text: str) -> None:
    assert parse_line(text) is None


def test_explicit_language_overrides_detection() -> None:
    ing = parse_line("1/4 de chou", "en")
    assert ing is not None
    assert ing.name == "de chou"
    assert _qun("1/4 de chou", "fr")[2] == "chou"


def test_pipe_read_as_l_inside_words_and_ignored_alone() -> None:
    assert _qun("1 |b butter") == (1, "lb", "butter")
    assert _qun("1 | cup mi|k") == (1, "cup", "milk")


@pytest.mark.parametrize(
    ("text", "unit", "name"),
    [("2 l lait", "l", "lait"), ("2 lemons", None, "lemons"), ("1 l. d'eau", "l", "eau")],
)
def test_litre_abbreviation_needs_a_boundary(text: str, unit: str | None, name: str) -> None:
    assert _qun(text, "fr")[1:] == (unit, name)


@pytest.mark.parametrize("text", ["¢ 1/4 cup sugar", "Y% cup sugar", "1/2 tsp s@lt"])
def test_unreadable_amounts_are_doubtful(text: str) -> None:
    ing = parse_line(text)
    assert ing is not None
    assert ing.confidence < 0.75


@pytest.mark.parametrize(
    ("text", "quantity", "unit", "name", "comment"),
    [
        ("1 (14-ounce) can tomatoes", 1, "can", "tomatoes", "(14-ounce)"),
        ("2 6-inch cinnamon sticks", 2, None, "cinnamon sticks", "6-inch"),
        ("2 x 400g cans chopped tomatoes", 2, "can", "chopped tomatoes", "400g"),
        ("2 tablespoons plus 2 teaspoons lime juice", 2, "tbsp", "lime juice", "plus 2 teaspoons"),
    ],
)
def test_item_sizes_and_extra_amounts_go_to_comment(
    text: str, quantity: float, unit: str | None, name: str, comment: str
) -> None:
    ing = parse_line(text, "en")
    assert ing is not None
    assert (ing.quantity, ing.unit, ing.name) == (quantity, unit, name)
    assert comment in (ing.comment or "")


@pytest.mark.parametrize(
    ("text", "quantity", "unit", "name"),
    [
        ("“1/2 cup soybeans", 0.5, "cup", "soybeans"),
        (": 4 cups water", 4, "cup", "water"),
        ("1/2. cup soybeans", 0.5, "cup", "soybeans"),
    ],
)
def test_ocr_specks_around_the_amount(
    text: str, quantity: float, unit: str | None, name: str
) -> None:
    assert _qun(text, "en") == (quantity, unit, name)


@pytest.mark.parametrize("text", ["f Cups water (1 liter)", "If) teaspoon vanilla extract"])
def test_unit_word_without_its_number_is_doubtful(text: str) -> None:
    ing = parse_line(text, "en")
    assert ing is not None
    assert ing.quantity is None
    assert ing.confidence < 0.75
