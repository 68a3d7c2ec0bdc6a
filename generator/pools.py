"""Value pools made once with seeded Faker instances (one per locale), then sampled with numpy. Faker row by row
is ~11,000 customer rows/s; sampling pools is vectorised and deterministic (no unseeded Faker globals)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

COUNTRIES = np.array(["DE", "FR", "NL", "GB", "AT", "BE", "ES", "IT", "PL", "SE"])
COUNTRY_WEIGHTS = np.array([0.3, 0.15, 0.1, 0.12, 0.05, 0.05, 0.08, 0.08, 0.04, 0.03])
_LOCALES = {"DE": "de_DE", "FR": "fr_FR", "NL": "nl_NL", "GB": "en_GB", "AT": "de_AT", "BE": "nl_BE",
            "ES": "es_ES", "IT": "it_IT", "PL": "pl_PL", "SE": "sv_SE"}  # fmt: skip
POOL_SIZE = 512  # values per pool (per country for addresses)

CATEGORIES = {
    "electronics": ["phones", "laptops", "audio", "cameras", "accessories"],
    "home": ["kitchen", "furniture", "decor", "bedding"],
    "fashion": ["shoes", "tops", "trousers", "outerwear", "bags"],
    "sports": ["running", "cycling", "fitness", "outdoor"],
    "beauty": ["skincare", "makeup", "fragrance"],
    "toys": ["games", "puzzles", "outdoor_toys"],
    "books": ["fiction", "non_fiction", "children"],
    "grocery": ["coffee", "snacks", "drinks"],
}
# Typical price (EUR) per category: products get a log-normal price around it.
CATEGORY_PRICE = {"electronics": 180.0, "home": 60.0, "fashion": 45.0, "sports": 55.0, "beauty": 25.0,
                  "toys": 30.0, "books": 15.0, "grocery": 8.0}  # fmt: skip
ADJECTIVES = np.array(["Classic", "Pro", "Ultra", "Eco", "Smart", "Compact", "Premium", "Essential", "Urban",
                       "Vintage", "Nordic", "Lite", "Max", "Air", "Prime", "Studio"])  # fmt: skip
REVIEW_TITLES = {
    1: ["Very disappointed", "Broke after a week", "Do not buy"],
    2: ["Not great", "Below expectations", "Meh"],
    3: ["Okay for the price", "Average", "Does the job"],
    4: ["Good value", "Pretty good", "Happy with it"],
    5: ["Excellent!", "Love it", "Perfect", "Best purchase this year"],
}
TICKET_CATEGORIES = np.array(["delivery", "payment", "return", "product_question", "account", "complaint"])


@dataclass(frozen=True)
class Pools:
    first_names: np.ndarray  # [country, POOL_SIZE]
    last_names: np.ndarray
    streets: np.ndarray
    cities: np.ndarray
    postcodes: np.ndarray
    brands: np.ndarray
    nouns: np.ndarray  # product nouns
    sentences: np.ndarray  # review bodies / ticket subjects


def _seeded_faker(locale: str, seed: int, providers: list[str] | None = None) -> Any:
    """A Faker for `locale` with the given provider modules (all by default: creating those costs ~25 ms)."""
    from faker import Faker

    fake = Faker(locale, providers=providers)
    fake.seed_instance(seed)
    # Some providers build their value lists from a set (e.g. it_IT cities), whose order changes with
    # PYTHONHASHSEED; sort them so that the same seed picks the same values in every process.
    for provider in fake.providers:
        names = {name for klass in type(provider).__mro__ for name, v in vars(klass).items() if isinstance(v, list)}
        for name in names:
            value = getattr(provider, name)  # the effective (most derived) value
            if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                setattr(provider, name, sorted(value))
    return fake


_METHODS = ("first_name", "last_name", "street_address", "city", "postcode")
# The providers the pools' methods use (company names use person's last names): the same values as with all
# providers, for a fifth of the instance's set-up.
_METHOD_PROVIDERS = ["faker.providers.person", "faker.providers.address"]
_CATALOG_PROVIDERS = ["faker.providers.company", "faker.providers.lorem", "faker.providers.person"]
CHILD_TIMEOUT_S = 60.0
# The locales the child process builds: the slowest three (nl_BE ~85 ms, sv_SE ~60 ms, it_IT ~50 ms) are about as
# much work as the other seven plus en_US in the parent (~20-45 ms each); five and five kept the parent waiting
# ~0.1 s for the child.
CHILD_COUNTRIES = ["BE", "IT", "SE"]


def _country_values(seed: int, codes: list[str]) -> list[list[list[str]]]:
    """For each country: POOL_SIZE values of each of _METHODS (one seeded Faker per locale)."""
    out = []
    for code in codes:
        fake = _seeded_faker(_LOCALES[code], seed, _METHOD_PROVIDERS)
        out.append([[str(getattr(fake, method)()) for _ in range(POOL_SIZE)] for method in _METHODS])
    return out


def _in_child(connection: Any, seed: int, codes: list[str]) -> None:
    connection.send(_country_values(seed, codes))
    connection.close()


def _all_country_values(seed: int) -> list[list[list[str]]]:
    """Every country's values (in COUNTRIES order), some locales built in a forked child process meanwhile (Faker is
    pure Python: ~0.4 s on one core). Each locale has its own seeded instance, so who builds it does not change the
    values. Sequential where fork is unavailable or fails."""
    import multiprocessing

    codes = [str(code) for code in COUNTRIES]
    my_codes = [code for code in codes if code not in CHILD_COUNTRIES]
    try:
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_in_child, args=(send, seed, CHILD_COUNTRIES), daemon=True)
        child.start()
    except (OSError, ValueError):
        return _country_values(seed, codes)
    send.close()
    try:
        mine = _country_values(seed, my_codes)
        if not receive.poll(CHILD_TIMEOUT_S):
            raise EOFError("pool child did not answer")
        theirs: list[list[list[str]]] = receive.recv()
    except EOFError:  # the child died or hangs: build its part here
        child.kill()
        theirs = _country_values(seed, CHILD_COUNTRIES)
    finally:
        receive.close()
        child.join()
    built = dict(zip(my_codes, mine, strict=True)) | dict(zip(CHILD_COUNTRIES, theirs, strict=True))
    return [built[code] for code in codes]


@lru_cache(maxsize=4)
def pools(seed: int) -> Pools:
    """Pools for one seed (cached: building them takes ~0.25 s on two cores)."""
    values = _all_country_values(seed)

    def pool(method: str) -> np.ndarray:
        k = _METHODS.index(method)
        return np.array([country[k] for country in values], dtype=object)

    fake = _seeded_faker("en_US", seed, _CATALOG_PROVIDERS)
    return Pools(
        first_names=pool("first_name"),
        last_names=pool("last_name"),
        streets=pool("street_address"),
        cities=pool("city"),
        postcodes=pool("postcode"),
        brands=np.array(sorted({fake.company().split(" ")[0].strip(",") for _ in range(200)}), dtype=object),
        nouns=np.array(sorted({fake.word().capitalize() for _ in range(400)}), dtype=object),
        sentences=np.array([fake.sentence(nb_words=10) for _ in range(POOL_SIZE)], dtype=object),
    )
