"""Routing data sets and reviewed intent descriptions.

Adapters read the intent sets in ``<data>/routing`` (see the data README's routing section) into
:class:`Utterance` rows with one common label space per set. Every label has a reviewed *action*
phrase that completes "The user wants to ...": that is the route description used at routing
time (:func:`describe`) and, in several phrasings (:data:`PHRASINGS`), the hypotheses of the
intent NLI pairs (:mod:`crossingguard.toolkit.routing.intent_pairs`).

The phrases were written from the label name and a look at the training utterances, never from
test utterances. BANKING77's are our own (the NeMo canonical forms, "inform card not arrived",
are terse; :func:`nemo_canonical_forms` reads them for comparison).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from crossingguard.errors import DataError, InputError
from crossingguard.io import read_jsonl
from crossingguard.toolkit.data.paths import data_root

DATASETS: tuple[str, ...] = ("banking77", "hwu64", "snips", "massive", "sebis")
OUT_OF_SCOPE = "None"  # sebis' out-of-scope label


@dataclass(frozen=True)
class Utterance:
    text: str
    intent: str
    dataset: str
    split: str


# --------------------------------------------------------------------------- descriptions
# label -> action phrase; "The user wants to <action>."
BANKING77: dict[str, str] = {
    "activate_my_card": "activate their new card",
    "age_limit": "know the minimum age for opening an account",
    "apple_pay_or_google_pay": "use Apple Pay or Google Pay with their account",
    "atm_support": "know which ATMs they can use their card at",
    "automatic_top_up": "set up automatic top-ups",
    "balance_not_updated_after_bank_transfer": "find out why their balance has not updated after a bank transfer",
    "balance_not_updated_after_cheque_or_cash_deposit": "find out why a cheque or cash deposit is not showing in their balance",
    "beneficiary_not_allowed": "find out why they cannot add a beneficiary or payee",
    "cancel_transfer": "cancel a transfer they made",
    "card_about_to_expire": "replace a card that is about to expire",
    "card_acceptance": "know where their card is accepted",
    "card_arrival": "find out why the card they ordered has not arrived",
    "card_delivery_estimate": "know how long it takes for a new card to be delivered",
    "card_linking": "link a card to their account in the app",
    "card_not_working": "report that their card is not working",
    "card_payment_fee_charged": "find out why they were charged a fee for a card payment",
    "card_payment_not_recognised": "report a card payment they do not recognise",
    "card_payment_wrong_exchange_rate": "complain that a card payment used the wrong exchange rate",
    "card_swallowed": "get back a card that an ATM kept",
    "cash_withdrawal_charge": "find out why they were charged for a cash withdrawal",
    "cash_withdrawal_not_recognised": "report a cash withdrawal they did not make",
    "change_pin": "change their card PIN",
    "compromised_card": "report that someone else may be using their card details",
    "contactless_not_working": "report that contactless payment is not working",
    "country_support": "know which countries the bank's services are available in",
    "declined_card_payment": "find out why a card payment was declined",
    "declined_cash_withdrawal": "find out why an ATM cash withdrawal was declined",
    "declined_transfer": "find out why a transfer was declined",
    "direct_debit_payment_not_recognised": "report a direct debit they do not recognise",
    "disposable_card_limits": "know the limits on disposable virtual cards",
    "edit_personal_details": "change their personal details such as name or address",
    "exchange_charge": "know the fees for exchanging currency",
    "exchange_rate": "know the exchange rate the bank uses",
    "exchange_via_app": "exchange money into another currency in the app",
    "extra_charge_on_statement": "find out about an extra charge on their statement",
    "failed_transfer": "find out why a transfer failed",
    "fiat_currency_support": "know which currencies they can hold or exchange",
    "get_disposable_virtual_card": "get a disposable virtual card",
    "get_physical_card": "get the PIN for their physical card",
    "getting_spare_card": "get an extra card for their account",
    "getting_virtual_card": "get a virtual card",
    "lost_or_stolen_card": "report that their card was lost or stolen",
    "lost_or_stolen_phone": "report that their phone was lost or stolen",
    "order_physical_card": "order a physical card",
    "passcode_forgotten": "reset a passcode they forgot",
    "pending_card_payment": "find out why a card payment is still pending",
    "pending_cash_withdrawal": "find out why a cash withdrawal is still pending",
    "pending_top_up": "find out why a top-up is still pending",
    "pending_transfer": "find out why a transfer is still pending",
    "pin_blocked": "unblock their blocked PIN",
    "receiving_money": "receive money from someone into their account",
    "Refund_not_showing_up": "find out why a refund has not appeared in their account",
    "request_refund": "get a refund for a purchase",
    "reverted_card_payment?": "find out why a card payment was reverted",
    "supported_cards_and_currencies": "know which cards and currencies are supported",
    "terminate_account": "close their account",
    "top_up_by_bank_transfer_charge": "know if there is a fee for topping up by bank transfer",
    "top_up_by_card_charge": "know if there is a fee for topping up with a card",
    "top_up_by_cash_or_cheque": "top up their account with cash or a cheque",
    "top_up_failed": "find out why a top-up failed",
    "top_up_limits": "know the limits on topping up their account",
    "top_up_reverted": "find out why a top-up was reversed",
    "topping_up_by_card": "top up their account with a card",
    "transaction_charged_twice": "report that they were charged twice for the same payment",
    "transfer_fee_charged": "find out why they were charged a fee for a transfer",
    "transfer_into_account": "transfer money into their account",
    "transfer_not_received_by_recipient": "report that the recipient has not received their transfer",
    "transfer_timing": "know how long a transfer takes to arrive",
    "unable_to_verify_identity": "report that they cannot verify their identity",
    "verify_my_identity": "know how to verify their identity",
    "verify_source_of_funds": "know how to prove where their money comes from",
    "verify_top_up": "verify a top-up they made with a card",
    "virtual_card_not_working": "report that their virtual card is not working",
    "visa_or_mastercard": "know whether their card is Visa or Mastercard",
    "why_verify_identity": "know why they have to verify their identity",
    "wrong_amount_of_cash_received": "report that an ATM gave them the wrong amount of cash",
    "wrong_exchange_rate_for_cash_withdrawal": "complain that a cash withdrawal used the wrong exchange rate",
}

HWU64: dict[str, str] = {
    "alarm_query": "check which alarms are set",
    "alarm_remove": "cancel an alarm",
    "alarm_set": "set an alarm",
    "audio_volume_down": "turn the volume down",
    "audio_volume_mute": "mute the sound",
    "audio_volume_up": "turn the volume up",
    "calendar_query": "check what is on their calendar",
    "calendar_remove": "delete an event from their calendar",
    "calendar_set": "add an event or reminder to their calendar",
    "cooking_recipe": "get a recipe or cooking instructions",
    "datetime_convert": "convert a time to another time zone",
    "datetime_query": "know the current date or time",
    "email_addcontact": "add someone to their email contacts",
    "email_query": "check their email inbox",
    "email_querycontact": "look up a contact's details",
    "email_sendemail": "send an email",
    "general_affirm": "say yes to the assistant",
    "general_commandstop": "make the assistant stop what it is doing",
    "general_confirm": "confirm that the assistant did what they asked",
    "general_dontcare": "say they do not mind which option is chosen",
    "general_explain": "have the assistant explain its answer more clearly",
    "general_joke": "hear a joke",
    "general_negate": "say no to the assistant or correct it",
    "general_praise": "praise or thank the assistant",
    "general_quirky": "chat with the assistant about something random",
    "general_repeat": "have the assistant repeat what it just said",
    "iot_cleaning": "start the robot vacuum cleaner",
    "iot_coffee": "have the coffee machine make coffee",
    "iot_hue_lightchange": "change the colour of the lights",
    "iot_hue_lightdim": "dim the lights",
    "iot_hue_lightoff": "turn the lights off",
    "iot_hue_lighton": "turn the lights on",
    "iot_hue_lightup": "make the lights brighter",
    "iot_wemo_off": "switch off a smart plug",
    "iot_wemo_on": "switch on a smart plug",
    "lists_createoradd": "create a list or add an item to a list",
    "lists_query": "check what is on one of their lists",
    "lists_remove": "remove an item from a list or delete a list",
    "music_likeness": "tell the assistant what music they like",
    "music_query": "know which song is playing",
    "music_settings": "change music playback settings such as shuffle",
    "news_query": "hear the latest news",
    "play_audiobook": "listen to an audiobook",
    "play_game": "play a game",
    "play_music": "play some music",
    "play_podcasts": "listen to a podcast",
    "play_radio": "listen to the radio",
    "qa_currency": "know the exchange rate between two currencies",
    "qa_definition": "know what a word means",
    "qa_factoid": "get the answer to a general knowledge question",
    "qa_maths": "solve a maths calculation",
    "qa_stock": "know the price of a stock",
    "recommendation_events": "find events happening nearby",
    "recommendation_locations": "find a good place nearby such as a restaurant or shop",
    "recommendation_movies": "get a recommendation for a movie to watch",
    "social_post": "post a message or complaint on social media",
    "social_query": "check what is new on social media",
    "takeaway_order": "order food for delivery or takeaway",
    "takeaway_query": "check on a takeaway order or whether a place delivers",
    "transport_query": "get information about trains or travel routes",
    "transport_taxi": "book a taxi",
    "transport_ticket": "book a train or travel ticket",
    "transport_traffic": "know the traffic conditions on the road",
    "weather_query": "know what the weather is like",
}

# MASSIVE shares HWU64's label names (it descends from the same corpus), plus three of its own.
MASSIVE: dict[str, str] = {
    **HWU64,
    "audio_volume_other": "change a sound setting of the device",
    "general_greet": "greet the assistant",
    "music_dislikeness": "tell the assistant what music they dislike",
    "cooking_query": "ask a question about cooking",
}

SNIPS: dict[str, str] = {
    "AddToPlaylist": "add a song or artist to a playlist",
    "BookRestaurant": "book a table at a restaurant",
    "GetWeather": "know the weather forecast",
    "PlayMusic": "play some music",
    "RateBook": "give a rating to a book",
    "SearchCreativeWork": "find a book, song, film, show or game",
    "SearchScreeningEvent": "find out when and where a movie is showing",
}

SEBIS: dict[str, str] = {
    "Make Update": "update their Ubuntu system or software",
    "Setup Printer": "set up a printer",
    "Shutdown Computer": "shut down their computer",
    "Software Recommendation": "get a recommendation for software",
    "DepartureTime": "know when the next train or bus leaves",
    "FindConnection": "find a public transport connection between two places",
    "Change Password": "change the password of an account",
    "Delete Account": "delete an online account",
    "Download Video": "download a video from a website",
    "Export Data": "export their data from a web service",
    "Filter Spam": "filter out spam",
    "Find Alternative": "find an alternative to a web application",
    "Sync Accounts": "sync data between their accounts",
}

DESCRIPTIONS: dict[str, dict[str, str]] = {
    "banking77": BANKING77,
    "hwu64": HWU64,
    "massive": MASSIVE,
    "snips": SNIPS,
    "sebis": SEBIS,
}

# Hypothesis phrasings for the NLI pairs; the first one is the route description.
PHRASINGS: tuple[str, ...] = (
    "The user wants to {}.",
    "The user is trying to {}.",
    "The user would like to {}.",
    "The user's goal is to {}.",
)


def describe(dataset: str, intent: str, *, phrasing: int = 0) -> str:
    """The reviewed description of ``intent``: "The user wants to check their balance."."""
    table = _table(dataset)
    if intent not in table:
        raise InputError(
            f"{dataset}: no description for intent {intent!r}; add it to "
            f"crossingguard.toolkit.routing.intents.{dataset.upper()}"
        )
    return PHRASINGS[phrasing % len(PHRASINGS)].format(table[intent])


def domain(dataset: str, intent: str) -> str:
    """Intents of one domain are each other's hard negatives.

    HWU64/MASSIVE: the scenario prefix (``iot`` in ``iot_hue_lightoff``); BANKING77: its topic
    (card, transfer, top-up, ...); SNIPS and sebis: the whole set (each is one domain).
    """
    if dataset in ("hwu64", "massive"):
        return intent.split("_", 1)[0]
    if dataset == "banking77":
        for word in (
            "top_up",
            "topping",
            "transfer",
            "cash",
            "exchange",
            "verify",
            "identity",
            "pin",
            "card",
            "payment",
        ):
            if word in intent.lower():
                return "top_up" if word == "topping" else word
        return "account"
    return dataset


def _table(dataset: str) -> dict[str, str]:
    if dataset not in DESCRIPTIONS:
        raise InputError(
            f"dataset: must be one of {', '.join(DATASETS)}, got {dataset!r}"
        )
    return DESCRIPTIONS[dataset]


# --------------------------------------------------------------------------- adapters
SPLITS: dict[str, tuple[str, ...]] = {
    "banking77": ("train", "test"),
    "hwu64": ("train", "test"),
    "snips": ("train", "valid", "test"),
    "massive": ("validation", "test"),
    "sebis": ("train", "test"),
}


def load_intents(
    dataset: str, split: str, *, root: Path | None = None
) -> list[Utterance]:
    """Rows of one routing set's split, in file order. sebis merges its three corpora."""
    _table(dataset)
    if split not in SPLITS[dataset]:
        raise InputError(
            f"{dataset}: split must be one of {', '.join(SPLITS[dataset])}, got {split!r}"
        )
    base = (root or data_root()) / "routing"
    if dataset in ("banking77", "hwu64"):
        rows = _read_csv(base / dataset / f"{split}.csv")
    elif dataset == "snips":
        rows = _read_lines(
            base / "snips" / f"{split}_seq.in", base / "snips" / f"{split}_label"
        )
    elif dataset == "massive":
        rows = _read_massive(base / "massive_en_intent" / f"{split}.jsonl")
    else:
        rows = _read_sebis(base / "nlu_eval_corpora_sebis", train=split == "train")
    out = [
        Utterance(t.strip(), i.strip(), dataset, split) for t, i in rows if t.strip()
    ]
    if not out:
        raise DataError(f"{dataset} {split}: no utterances read from {base}")
    return out


def intent_names(dataset: str, rows: Iterable[Utterance] | None = None) -> list[str]:
    """The in-scope intents of a set (sorted), from the description table or from rows."""
    if rows is None:
        return sorted(_table(dataset))
    return sorted({r.intent for r in rows if r.intent != OUT_OF_SCOPE})


def _need(path: Path) -> Path:
    if not path.is_file():
        raise DataError(
            f"routing data file {path} not found; is the shared data folder complete?"
        )
    return path


def _read_csv(path: Path) -> list[tuple[str, str]]:
    with _need(path).open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"text", "category"} <= set(
            reader.fieldnames
        ):
            raise DataError(f"{path}: expected a CSV header with text,category")
        return [(r["text"], r["category"]) for r in reader]


def _read_lines(texts: Path, labels: Path) -> list[tuple[str, str]]:
    t = _need(texts).read_text(encoding="utf-8").splitlines()
    lab = _need(labels).read_text(encoding="utf-8").splitlines()
    if len(t) != len(lab):
        raise DataError(f"{texts} has {len(t)} lines but {labels} has {len(lab)}")
    return list(zip(t, lab, strict=False))


def _read_massive(path: Path) -> list[tuple[str, str]]:
    return [(obj["text"], obj["label_text"]) for obj in read_jsonl(_need(path))]


def _read_sebis(folder: Path, *, train: bool) -> list[tuple[str, str]]:
    rows = []
    for name in ("AskUbuntuCorpus", "ChatbotCorpus", "WebApplicationsCorpus"):
        obj = json.loads(_need(folder / f"{name}.json").read_text(encoding="utf-8"))
        rows += [
            (s["text"], s["intent"])
            for s in obj["sentences"]
            if bool(s.get("training")) == train
        ]
    return rows


def nemo_canonical_forms(*, root: Path | None = None) -> dict[str, list[str]]:
    """BANKING77's NeMo-Guardrails canonical forms, intent -> forms ("inform card not arrived")."""
    path = (
        (root or data_root())
        / "routing"
        / "banking77"
        / "nemoguardrails_banking77_canonical_forms.json"
    )
    out: dict[str, list[str]] = {}
    for intent, form in json.loads(_need(path).read_text(encoding="utf-8")):
        out.setdefault(intent, []).append(form)
    return out
