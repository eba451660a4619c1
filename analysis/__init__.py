"""Where is the negation annotation dropped? Measurements on models and on the activation store.

``belief`` scores behaviour (yes/no questions, cloze); ``annotation``, ``truth_readers``,
``readout``, ``drop_layer`` and ``causal`` measure per layer; ``localize`` runs them into a typed
``LocalizeResult``; ``report*`` and ``sweep_report`` write the figures, tables and HTML pages.
"""
