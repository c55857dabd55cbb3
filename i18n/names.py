"""Place names for a reader of English: the Chinese name with its pinyin beside it.

A name stays what its department wrote (it is how the place is signed and searched); in
English mode a reader also gets its sound: ``青溪体育中心 (Qingxi Tiyu Zhongxin)``.  Words are
cut with jieba's dictionary (loaded once, on the first English name), each word written as
one capitalised pinyin word with the apostrophe before a syllable that starts with a, o or
e (``Chang'an``), a road, street or district ending split off as its own word
(``Changle Lu``) and a four-character entry of two words split in two (``Tiyu Zhongxin``),
as GB/T 16159 writes place names.  Latin letters and digits stay as written.
"""

from __future__ import annotations

import functools
import logging
import re
import threading

#: Endings written as a word of their own (the generic part of a place name).
GENERIC_ENDINGS = ("街道", "社区", "大道", "路", "街", "巷", "区", "市", "县", "镇", "乡", "村")
_HAN = re.compile(r"[\u3400-\u9fff]")
_RUN = re.compile(r"[\u3400-\u9fff]+|[^\u3400-\u9fff]+")
_LOCK = threading.Lock()
#: Chinese punctuation as the Latin text beside it writes it.
_ASCII_PUNCT = str.maketrans({"（": "(", "）": ")", "，": ",", "、": ",", "：": ":", "；": ";", "。": "."})


@functools.cache
def _cutter():
    """jieba's tokenizer, initialised once (its dictionary takes about a second to load)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    with _LOCK:
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
    return tokenizer


def syllables(word: str) -> list[str]:
    """The pinyin syllables of ``word``'s Chinese, without tones (``青溪`` → ``["qing", "xi"]``)."""
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(word, style=Style.NORMAL, errors="ignore")


def _pinyin_word(word: str) -> str:
    """One word: its syllables joined, an apostrophe before a, o or e after the first, capitalised."""
    out = ""
    for k, syl in enumerate(syllables(word)):
        out += ("'" if k and syl[:1] in "aoe" else "") + syl
    return out[:1].upper() + out[1:]


def _split_compound(word: str, known: dict) -> list[str]:
    """A four-character dictionary entry made of two two-character words (体育中心, 天府广场) as those two."""
    if len(word) == 4 and known.get(word[:2]) and known.get(word[2:]):
        return [word[:2], word[2:]]
    return [word]


def _words(run: str) -> list[str]:
    cutter = _cutter()
    words: list[str] = []
    for word in cutter.cut(run, HMM=False):
        ending = next((e for e in GENERIC_ENDINGS if len(word) > len(e) and word.endswith(e)), None)
        for part in ([word[:-len(ending)], ending] if ending else [word]):
            words.extend(_split_compound(part, cutter.FREQ))
    return words


@functools.lru_cache(maxsize=8192)
def romanised(name: str) -> str:
    """The pinyin of ``name``'s Chinese (words capitalised); the rest as written; "" for a name without Chinese."""
    if not isinstance(name, str) or not _HAN.search(name):
        return ""
    parts: list[str] = []
    for run in _RUN.findall(name):
        if _HAN.match(run):
            parts.extend(_pinyin_word(w) for w in _words(run))
        elif run.strip():
            parts.append(run.strip())
    text = " ".join(p for p in parts if p).translate(_ASCII_PUNCT)
    return re.sub(r"\(\s+", "(", re.sub(r"\s+([),.:;])", r"\1", text))  # brackets and stops hug their words


def place_name(name: object, lang: str) -> str:
    """A place's name as a reader of ``lang`` sees it: as written in Chinese mode; with its pinyin in English."""
    text = "" if name is None or (isinstance(name, float) and name != name) else str(name)
    if lang != "en":
        return text
    sound = romanised(text)
    return f"{text} ({sound})" if sound else text


__all__ = ["romanised", "place_name", "syllables", "GENERIC_ENDINGS"]
