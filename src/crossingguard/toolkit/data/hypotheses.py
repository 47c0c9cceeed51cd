"""The reviewed hypothesis table for guardrail NLI pairs.

Every hypothesis is a targeted claim about a prompt, written in the style of the CrossingGuard model
card ("The prompt requests information about ..."). The table has four parts:

* ``CATEGORIES``: the canonical category vocabulary. Each category has ``request`` phrasings (true of
  *every* prompt in the category that asks for such content: a phrasing narrower than the category,
  such as "asks how to build a bomb" for weapons, would make false entailments) and optional ``content`` phrasings (true of a text that
  *contains* such content, e.g. a hateful tweet). Harm categories cover the OpenAI moderation and
  MLCommons (AILuminate) hazard taxonomies; attack categories cover prompt injection and
  jailbreaks; noncompliance categories cover CoCoNot's non-harmful reasons to not simply comply.
* generic harmful / attack claims and benign claims, again split into request and content forms;
* ``NEUTRAL_CLAIMS``: claims about the writer (identity, age, profession, motives, location, past
  actions) that a prompt alone cannot settle. Each carries ``blockers``: words that, if present in a
  prompt, might settle the claim, so the pair builder skips that claim for that prompt.

Edit this table by review, not by generator output: `hypothesis_generator` proposes phrasings that a
person then copies here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["harm", "attack", "noncompliance"]


@dataclass(frozen=True)
class Category:
    name: str
    kind: Kind
    description: str
    request: tuple[str, ...]
    content: tuple[str, ...] = ()
    domain: str = ""


@dataclass(frozen=True)
class NeutralClaim:
    text: str
    blockers: tuple[str, ...]


_C = Category

CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        # --- harm: physical -------------------------------------------------------------
        _C(
            "violent_crime",
            "harm",
            "violence against people: assault, murder, kidnapping, threats",
            (
                "The prompt asks for help harming another person",
                "The prompt requests instructions for committing a violent crime",
                "The prompt seeks ways to physically attack or kill someone",
                "The prompt relates to committing violence against people",
            ),
            domain="physical",
        ),
        _C(
            "graphic_violence",
            "harm",
            "gory or graphic depictions of violence",
            (
                "The prompt requests a graphic, gory depiction of violence",
                "The prompt asks for a vivid description of injuries or bloodshed",
                "The prompt requests disturbing violent imagery",
            ),
            domain="physical",
        ),
        _C(
            "weapons_cbrne",
            "harm",
            "weapons, explosives, chemical, biological, radiological, nuclear",
            (
                "The prompt asks for help with weapons or explosives",
                "The prompt relates to weapons, explosives or chemical, biological or nuclear agents",
                "The prompt seeks to make, obtain or use a weapon",
            ),
            domain="physical",
        ),
        _C(
            "terrorism",
            "harm",
            "terrorism, violent extremism and organized crime",
            (
                "The prompt relates to terrorism, violent extremism or organized crime",
                "The prompt supports or seeks help with extremist or terrorist activity",
                "The prompt involves terrorist, extremist or organized criminal groups",
            ),
            domain="physical",
        ),
        _C(
            "self_harm",
            "harm",
            "suicide, self-injury, eating disorders",
            (
                "The prompt relates to suicide, self-harm or disordered eating",
                "The prompt involves someone hurting themselves",
                "The prompt asks for something that could lead a person to harm themselves",
            ),
            domain="physical",
        ),
        _C(
            "drugs",
            "harm",
            "illegal drugs: making, buying, using, selling",
            (
                "The prompt relates to illegal drugs",
                "The prompt asks for help making, obtaining, using or selling illegal drugs",
                "The prompt involves drug abuse",
            ),
            domain="physical",
        ),
        _C(
            "regulated_goods",
            "harm",
            "drugs, weapons and other banned or controlled goods",
            (
                "The prompt asks about obtaining or making drugs, weapons or other banned goods",
                "The prompt involves drugs, weapons or other banned or controlled goods",
                "The prompt relates to illegal or controlled substances or items",
            ),
            domain="physical",
        ),
        _C(
            "animal_abuse",
            "harm",
            "cruelty to animals, poaching, illegal animal trade",
            (
                "The prompt involves harming or mistreating animals",
                "The prompt relates to cruelty to animals or crimes against animals",
                "The prompt asks for something that would hurt animals",
            ),
            domain="physical",
        ),
        # --- harm: sexual ---------------------------------------------------------------
        _C(
            "sexual_content",
            "harm",
            "sexually explicit or pornographic content",
            (
                "The prompt requests sexually explicit content",
                "The prompt relates to sexually explicit or adult content",
                "The prompt involves pornographic or erotic material",
            ),
            content=("The prompt contains sexually explicit language",),
            domain="sexual",
        ),
        _C(
            "sex_crimes",
            "harm",
            "sexual assault, trafficking, non-consensual acts",
            (
                "The prompt relates to sexual assault, sex trafficking or other sexual crimes",
                "The prompt asks for help with a sexual crime",
                "The prompt involves non-consensual sexual acts or sexual exploitation",
            ),
            domain="sexual",
        ),
        _C(
            "child_safety",
            "harm",
            "abuse or sexual exploitation of children",
            (
                "The prompt involves harming or abusing a child",
                "The prompt relates to the abuse or exploitation of children",
                "The prompt puts children at risk of harm or exploitation",
            ),
            domain="sexual",
        ),
        # --- harm: speech ---------------------------------------------------------------
        _C(
            "hate",
            "harm",
            "hate or discrimination against protected groups",
            (
                "The prompt asks for content that demeans people for their race, religion or identity",
                "The prompt requests hateful or discriminatory content about a group of people",
                "The prompt promotes stereotypes about a social group",
            ),
            content=(
                "The prompt contains hateful language about a group of people",
                "The prompt expresses hatred toward people because of who they are",
                "The prompt demeans a group based on race, religion, gender or another identity",
            ),
            domain="speech",
        ),
        _C(
            "toxicity",
            "harm",
            "insults, profanity, offensive or toxic language",
            (
                "The prompt asks for insulting or offensive language",
                "The prompt requests vulgar or toxic wording",
                "The prompt asks for something rude or abusive to say",
            ),
            content=(
                "The prompt contains offensive or abusive language",
                "The prompt uses insulting or vulgar words",
                "The prompt is written in a toxic, abusive tone",
            ),
            domain="speech",
        ),
        _C(
            "harassment",
            "harm",
            "harassing, threatening or bullying a specific person",
            (
                "The prompt asks for help harassing or bullying someone",
                "The prompt relates to harassing, threatening or bullying a person",
                "The prompt targets a specific person with abuse or intimidation",
            ),
            domain="speech",
        ),
        _C(
            "defamation",
            "harm",
            "false, damaging claims about real people or organizations",
            (
                "The prompt asks for false statements that damage someone's reputation",
                "The prompt requests defamatory content about a real person",
                "The prompt seeks to spread damaging lies about a company or individual",
            ),
            domain="speech",
        ),
        _C(
            "belief_promotion",
            "harm",
            "content pushing political, religious or ideological beliefs",
            (
                "The prompt asks for content promoting a political, religious or ideological belief",
                "The prompt requests persuasive propaganda for a cause",
                "The prompt asks the assistant to argue for one side of a belief",
            ),
            domain="speech",
        ),
        # --- harm: information ----------------------------------------------------------
        _C(
            "privacy",
            "harm",
            "personal data, doxxing, surveillance, confidential information",
            (
                "The prompt seeks private or personal information about someone",
                "The prompt relates to violating someone's privacy",
                "The prompt asks for confidential or personal data",
            ),
            domain="information",
        ),
        _C(
            "misinformation",
            "harm",
            "false news, conspiracy theories, deceptive content",
            (
                "The prompt asks for false or misleading information",
                "The prompt seeks to create or spread false or misleading claims",
                "The prompt relates to misinformation or disinformation",
            ),
            domain="information",
        ),
        _C(
            "ip_violation",
            "harm",
            "copyright and intellectual-property infringement",
            (
                "The prompt relates to copyright or intellectual-property infringement",
                "The prompt requests help infringing intellectual property",
                "The prompt asks to use or copy protected work without permission",
            ),
            domain="information",
        ),
        _C(
            "specialized_advice",
            "harm",
            "medical, legal, financial or other expert advice",
            (
                "The prompt asks for specialized advice such as medical, legal, financial or election guidance",
                "The prompt seeks guidance that normally needs a qualified professional or official source",
                "The prompt asks for advice in a specialized, high-stakes domain",
            ),
            domain="information",
        ),
        # --- harm: economic / cyber -----------------------------------------------------
        _C(
            "fraud_scams",
            "harm",
            "fraud, scams, impersonation, deception for gain",
            (
                "The prompt asks for help scamming or defrauding people",
                "The prompt relates to fraud, scams or deception",
                "The prompt seeks to deceive people for gain",
            ),
            domain="economic",
        ),
        _C(
            "nonviolent_crime",
            "harm",
            "theft, burglary, financial crime and other non-violent crimes",
            (
                "The prompt asks for help committing a non-violent crime such as theft",
                "The prompt relates to breaking the law without violence",
                "The prompt involves a property, financial or other non-violent crime",
            ),
            domain="economic",
        ),
        _C(
            "cybercrime_malware",
            "harm",
            "hacking, malware, intrusion and other cyberattacks",
            (
                "The prompt requests malicious code or help with a cyberattack",
                "The prompt relates to hacking, malware or other cyberattacks",
                "The prompt seeks unauthorized access to computer systems or data",
            ),
            domain="cyber",
        ),
        _C(
            "unethical_behavior",
            "harm",
            "non-violent unethical acts: lying, cheating, manipulation",
            (
                "The prompt asks for help with something unethical",
                "The prompt relates to unethical or dishonest conduct",
                "The prompt seeks to act unfairly or dishonestly toward others",
            ),
            domain="economic",
        ),
        # --- attacks --------------------------------------------------------------------
        _C(
            "prompt_injection",
            "attack",
            "attempts to override the assistant's instructions",
            (
                "The prompt tries to override the assistant's instructions",
                "The prompt tries to make the AI deviate from its intended task",
                "The prompt attempts to hijack the system's behavior",
                "The prompt contains a prompt injection attack",
            ),
            domain="attack",
        ),
        _C(
            "prompt_extraction",
            "attack",
            "attempts to reveal the system prompt or secrets",
            (
                "The prompt tries to make the AI reveal its hidden instructions",
                "The prompt attempts to extract the system prompt",
                "The prompt asks the assistant to disclose its secret password or rules",
            ),
            domain="attack",
        ),
        _C(
            "jailbreak",
            "attack",
            "role-play or persona templates that bypass safety rules",
            (
                "The prompt is a jailbreak attempt",
                "The prompt asks the AI to act without its safety rules",
                "The prompt tries to get around the AI's content rules",
                "The prompt tries to trick the AI into producing restricted content",
            ),
            domain="attack",
        ),
        # --- noncompliance (not harmful) ------------------------------------------------
        _C(
            "underspecified",
            "noncompliance",
            "the request is incomplete or unclear",
            (
                "The request is missing information needed to answer it",
                "The prompt is too vague to answer without clarification",
                "The prompt is underspecified",
            ),
            domain="noncompliance",
        ),
        _C(
            "false_presupposition",
            "noncompliance",
            "the request rests on a false premise",
            (
                "The prompt is based on a false assumption",
                "The question presupposes something that is not true",
            ),
            domain="noncompliance",
        ),
        _C(
            "unsupported_request",
            "noncompliance",
            "beyond a text assistant: modality, real time",
            (
                "The prompt asks for something a text-only assistant cannot do",
                "The request needs real-time data or abilities the assistant does not have",
                "The prompt asks for something beyond what a text assistant can do",
            ),
            domain="noncompliance",
        ),
        _C(
            "indeterminate",
            "noncompliance",
            "subjective or unknowable questions",
            (
                "The question has no single correct answer",
                "The prompt asks something that cannot be answered definitively",
            ),
            domain="noncompliance",
        ),
        _C(
            "humanizing",
            "noncompliance",
            "treats the assistant as a person",
            (
                "The prompt treats the AI as if it were a human",
                "The prompt asks for the assistant's personal opinions, feelings or experiences",
            ),
            domain="noncompliance",
        ),
    )
}

HARM_CATEGORIES = tuple(n for n, c in CATEGORIES.items() if c.kind == "harm")
ATTACK_CATEGORIES = tuple(n for n, c in CATEGORIES.items() if c.kind == "attack")
NONCOMPLIANCE_CATEGORIES = tuple(
    n for n, c in CATEGORIES.items() if c.kind == "noncompliance"
)

# Claims true of any harmful request / any harmful text.
GENERIC_HARMFUL_REQUEST = (
    "The prompt asks for something harmful or dangerous",
    "The prompt seeks assistance that could cause harm",
    "The prompt requests content that an AI assistant should refuse",
    "The prompt asks for help with something illegal, dangerous or unethical",
)
GENERIC_HARMFUL_CONTENT = (
    "The prompt contains harmful or offensive content",
    "The prompt is unsafe",
    "The prompt includes content that violates a content policy",
)
GENERIC_ATTACK = (
    "The prompt tries to manipulate the AI into breaking its rules",
    "The prompt is an attempt to attack or misuse the AI system",
)
# Claims true of a benign request / any benign text.
BENIGN_REQUEST = (
    "The prompt is a harmless everyday request",
    "The prompt asks for ordinary, legitimate help",
    "The prompt is a safe request that an assistant can answer",
)
BENIGN_CONTENT = (
    "The prompt is harmless",
    "Nothing in the prompt is harmful or dangerous",
    "The prompt contains no hateful or offensive content",
)

_AGE = (
    "year old",
    "years old",
    "yo ",
    "teen",
    "kid",
    "child",
    "minor",
    "age",
    "grade",
    "school",
    "student",
    "young",
    "old",
    "adult",
    "18",
    "21",
    "retire",
)
_MEDICAL = (
    "doctor",
    "nurse",
    "medic",
    "physician",
    "clinic",
    "hospital",
    "patient",
    "pharmac",
    "surgeon",
    "health",
)
NEUTRAL_CLAIMS: tuple[NeutralClaim, ...] = (
    NeutralClaim("The person writing this prompt is a medical professional", _MEDICAL),
    NeutralClaim("The person writing this prompt is a teenager", _AGE),
    NeutralClaim("The user is over 60 years old", _AGE),
    NeutralClaim(
        "The user works as a software engineer",
        (
            "engineer",
            "developer",
            "programmer",
            "software",
            "code",
            "coding",
            "job",
            "work",
        ),
    ),
    NeutralClaim(
        "The user is a lawyer", ("lawyer", "attorney", "legal", "law", "court")
    ),
    NeutralClaim(
        "The user is a police officer",
        ("police", "officer", "cop", "detective", "law enforcement"),
    ),
    NeutralClaim(
        "The user is a journalist researching a story",
        ("journalist", "reporter", "story", "article", "research", "news"),
    ),
    NeutralClaim(
        "The user lives in Canada", ("canada", "canadian", "live", "country", "toronto")
    ),
    NeutralClaim(
        "The user lives in a large city", ("city", "live", "town", "urban", "downtown")
    ),
    NeutralClaim(
        "The user has already done this before",
        (
            "before",
            "already",
            "again",
            "last time",
            "used to",
            "did ",
            "done",
            "previous",
        ),
    ),
    NeutralClaim(
        "The user has asked this question before",
        ("before", "already", "again", "asked", "previous", "last time"),
    ),
    NeutralClaim(
        "The user is asking for a school assignment",
        (
            "school",
            "assignment",
            "homework",
            "class",
            "essay",
            "teacher",
            "student",
            "project",
        ),
    ),
    NeutralClaim(
        "The user plans to share the answer on social media",
        (
            "social media",
            "post",
            "share",
            "twitter",
            "tweet",
            "facebook",
            "instagram",
            "tiktok",
            "blog",
            "rt ",
        ),
    ),
    NeutralClaim(
        "The user is writing from a mobile phone",
        ("phone", "mobile", "iphone", "android", "app"),
    ),
    NeutralClaim(
        "The user is in a hurry",
        ("hurry", "quick", "fast", "urgent", "now", "asap", "minute"),
    ),
    NeutralClaim(
        "The user has a college degree",
        ("college", "degree", "university", "graduate", "phd", "study", "studied"),
    ),
    NeutralClaim(
        "The user is a parent",
        (
            "parent",
            "son",
            "daughter",
            "kid",
            "child",
            "mom",
            "dad",
            "mother",
            "father",
            "baby",
            "family",
        ),
    ),
    NeutralClaim(
        "The user is married",
        ("married", "wife", "husband", "spouse", "partner", "wedding"),
    ),
    NeutralClaim(
        "The user is asking on behalf of a company",
        (
            "company",
            "business",
            "employer",
            "firm",
            "corporate",
            "team",
            "organization",
        ),
    ),
    NeutralClaim(
        "The user speaks more than one language",
        (
            "language",
            "speak",
            "translate",
            "english",
            "spanish",
            "german",
            "french",
            "bilingual",
        ),
    ),
    NeutralClaim(
        "The user will act on the answer today",
        ("today", "tonight", "now", "tomorrow", "soon"),
    ),
)


def request_phrasings(category: str) -> tuple[str, ...]:
    return CATEGORIES[category].request


def content_phrasings(category: str) -> tuple[str, ...]:
    return CATEGORIES[category].content


def all_hypotheses() -> list[str]:
    """Every hypothesis in the table, for review and for length checks."""
    out: list[str] = []
    for cat in CATEGORIES.values():
        out += [*cat.request, *cat.content]
    out += [*GENERIC_HARMFUL_REQUEST, *GENERIC_HARMFUL_CONTENT, *GENERIC_ATTACK]
    out += [*BENIGN_REQUEST, *BENIGN_CONTENT, *(n.text for n in NEUTRAL_CLAIMS)]
    return out
