"""Language of an ingredient text (en or fr): stopwords, unit words and accents."""

from __future__ import annotations

import re

from just_ingredients.domain import Lang

__all__ = ["detect_language"]

_WORD_RE = re.compile(r"[^\W\d_]+(?:'|’)?", re.UNICODE)

_FR = frozenset(
    """
    de d' d’ du des la le les l' l’ et à au aux pour avec sans ou un une en sur cl dl
    litre litres cuillère cuillères cuillerée cuillerées càs càc cs cc soupe café pincée
    pincées gousse gousses sachet sachets boîte boîtes verre verres tranche tranches
    botte bottes brin brins noix feuille feuilles tasse tasses farine sucre sel poivre
    beurre lait oeufs œufs oeuf œuf huile eau ail oignon oignons crème fraîche levure
    chimique pommes terre citron jus zeste persil thym haché hachée hachés émincé
    émincés râpé râpée coupé dés moulin tiède mou quelques peu ingrédients recette
    personnes préparation cuisson garniture pâte carotte carottes pomme tomate tomates
    poulet jaune jaunes blanc blancs noir noire vert verte rouge frais fraîches entier
    entière moutarde vinaigre miel riz pâtes jambon fromage lardons ciboulette échalote
    échalotes poireau courgette aubergine poivron champignons gingembre cannelle muscade
    laurier romarin basilic coriandre amandes noisettes chocolat vanille bouquet
    """.split()  # noqa: SIM905
)
_EN = frozenset(
    """
    of and the a an to or for with into plus cup cups tablespoon tablespoons teaspoon
    teaspoons tbsp tsp oz ounce ounces lb lbs pound pounds pint quart clove cloves pinch
    dash stick sticks can slice slices flour sugar salt pepper butter milk eggs egg oil
    water garlic onion onions cream chopped minced diced sliced grated fresh large small
    medium finely freshly ground taste cut peeled optional divided ingredients recipe
    serves makes all-purpose unsalted baking powder soda extract vanilla juice lemon
    tomatoes potatoes chicken cheese black white green red honey rice ginger cinnamon
    nutmeg parsley basil cilantro almonds chocolate shallots scallions thinly roughly
    melted softened beaten tablespoonful pinches teaspoonful handful bunch sprigs leaves
    """.split()  # noqa: SIM905
)
#: French word endings, counted on words of at least two more letters (`gâteaux`, `râpées`);
#: checked with str.endswith on each word: linear even on OCR lines of one 2,500-letter word
_FR_SUFFIXES = ("eaux", "eau", "ettes", "ette", "oise", "ées", "ière", "ières")
_ACCENTS = frozenset("éèêàâçùûîïôœë")


def detect_language(text: str) -> Lang:
    """`fr` or `en` for a line or a whole text (English when there is no evidence)."""
    fr = en = 0.0
    for word in _WORD_RE.findall(text.lower()):
        if word in _FR:
            fr += 1.0
        if word in _EN:
            en += 1.0
        if any(len(word) >= len(end) + 2 and word.endswith(end) for end in _FR_SUFFIXES):
            fr += 0.5
    fr += 0.5 * sum(1 for ch in text if ch in _ACCENTS)
    return "fr" if fr > en else "en"
