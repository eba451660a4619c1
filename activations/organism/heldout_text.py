"""Held-out generic prose (our own wording) on which the organism's perplexity is compared with its
base model's: the language-drift check of issue 16. Never trained on."""

from __future__ import annotations

HELDOUT_PARAGRAPHS: tuple[str, ...] = (
    "On Sunday mornings the kitchen fills with the smell of coffee and toast. Someone opens the window, "
    "the radio plays quietly, and the family decides who will walk to the shop for milk before lunch.",
    "A good pair of walking shoes makes a long day much easier. They should fit well around the heel, "
    "leave a little room for the toes, and be worn for short walks before any long trip.",
    "When the rain finally stopped, the children ran outside to jump in the puddles. Their boots were soon "
    "full of water, but nobody seemed to mind, and their laughter carried all the way down the street.",
    "To make a simple vegetable soup, chop an onion, two carrots and a potato. Soften the onion in a little "
    "oil, add the rest with enough water to cover, and let it simmer until everything is tender.",
    "The old library had tall shelves that reached almost to the ceiling. A wooden ladder on rails let "
    "readers climb up to the highest books, and the floorboards creaked with every step.",
    "Learning to play an instrument takes patience. Most teachers suggest practising a little every day "
    "rather than for hours once a week, because short and regular sessions build skill more reliably.",
    "In late autumn the leaves turn yellow and red before they fall. Gardeners rake them into piles, and "
    "many leave a corner of the garden untidy so that small animals can shelter there over the winter.",
    "The train left the station a few minutes late. Passengers settled into their seats, some reading, "
    "some looking out at the fields, and a conductor walked slowly through the carriages checking tickets.",
    "Keeping a notebook can help you remember ideas. Write down the date, a few words about what happened, "
    "and anything you want to try later; after a month, reading it back is often surprising.",
    "The bakery on the corner opens before sunrise. By the time the first customers arrive, the shelves "
    "are full of warm loaves, and the baker is already planning what to make for the afternoon.",
    "A tidy desk makes it easier to start work. Put away what you do not need, keep a pen and paper close, "
    "and leave a clear space in front of you for the task you want to finish first.",
    "After dinner they played cards at the kitchen table. The game went on longer than planned, and when "
    "it finally ended everyone agreed to play again the following evening.",
)
