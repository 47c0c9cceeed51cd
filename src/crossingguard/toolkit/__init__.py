"""The offline toolkit: everything that builds, trains, evaluates and measures models.

``data`` (training and evaluation data), ``training`` (losses, distillation, export, shipping),
``evaluation`` (metrics, guard and NLI evaluation, calibration fits), ``routing`` (intent tables,
intent NLI pairs, routing evaluation) and ``benchmarking`` (``crossingguard bench``). It imports
the runtime (``inference``, ``policy``, ``guard``); the runtime never imports it. Most of it needs
the ``train`` extra (torch, transformers, datasets); see docs/architecture.md.
"""
