"""just-ingredients: photos of ingredient lists into structured, searchable recipes."""

from just_ingredients.domain import Amount, BoundingBox, Draft, Ingredient, Recipe

__all__ = ["Amount", "BoundingBox", "Draft", "Ingredient", "Recipe", "__version__"]
__version__ = "0.1.0"
