"""Offline routing toolkit: intent tables (``intents``), intent NLI pairs (``intent_pairs``) and
routing evaluation (``evaluation``). Runtime routing (``Router``, strategies, the embedder) lives
in :mod:`crossingguard.guard.routing`."""
