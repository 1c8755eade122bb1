"""Names Python reads NFKC-normalised (PEP 3131) resolve like their ASCII forms."""
import pickle as pé
from pickle import load as λ
import joblib as ｊｏｂｌｉｂ２


def by_accented_alias(p):
    with open(p, "rb") as fh:
        return pé.load(fh)  # want: MLG102


def by_greek_alias(p):
    return λ(open(p, "rb"))  # want: MLG102


def by_fullwidth_module(p):
    return ｊｏｂｌｉｂ２.load(p)  # want: MLG102


def by_fullwidth_attribute(p):
    return pickle.ｌｏａｄ(open(p, "rb"))  # want: MLG102


def by_math_letters(p):
    return 𝐩𝐢𝐜𝐤𝐥𝐞.loads(p)  # want: MLG102


def by_decomposed_spelling(p):
    # the alias spelled with e + combining accent (NFD): the same name to Python
    return pé.load(open(p, "rb"))  # want: MLG102
