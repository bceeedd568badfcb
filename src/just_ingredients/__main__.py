from just_ingredients.cli import main

main()
