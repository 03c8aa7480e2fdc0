"""Text preparation shared by every Python tool in the comparison.

It reproduces doppel's own (src/shingle.rs), so that all tools compare the
same shingle sets:

  1. Unicode NFKC;
  2. apostrophes (' ’ ‘ ʼ `) dropped, so "Kremlin’s" and "Kremlin's" are "kremlins";
  3. every other non-alphanumeric character is a word break (a character is
     alphanumeric when str.isalnum() says so);
  4. lower case, character by character (no Greek final-sigma rule, as Rust's
     char::to_lowercase);
  5. word 5-grams joined by single spaces; a document of 1 to 4 words is one
     shingle of all its words; a document with no words has no shingles.

Known residual difference: Rust's char::is_alphanumeric also counts the
combining vowel signs of some scripts (Unicode Other_Alphabetic, e.g.
Devanagari) as letters, str.isalnum() does not. English news is unaffected.
"""
import json
import re
import unicodedata

NGRAM = 5

_SEP = re.compile(r"[\W_]+")  # runs of characters that are not str.isalnum()


def normalize(text):
    """The document's words, lower-cased, joined by single spaces."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        for c in "\u2019\u2018\u02bc":
            if c in text:
                text = text.replace(c, "")
        # Capital sigma becomes medial sigma before str.lower() can apply its
        # final-sigma rule, which Rust's char::to_lowercase does not have.
        if "\u03a3" in text:
            text = text.replace("\u03a3", "\u03c3")
    for c in "'`":
        if c in text:
            text = text.replace(c, "")
    # Lower-case last: lowering can turn a letter into a letter plus a
    # combining mark (İ -> i + U+0307) that must stay inside its word.
    return _SEP.sub(" ", text).strip().lower()


def shingles(text, n=NGRAM):
    """Word n-gram shingles of a raw text, in text order (repeats kept)."""
    words = normalize(text).split()
    if len(words) < n:
        return [" ".join(words)] if words else []
    return list(map(" ".join, zip(*(words[i:] for i in range(n)))))


def read_corpus(path, text_field="text", id_field="id"):
    """Yields (id, text) for each non-blank line of a JSONL file.

    A record without an id gets FILE:LINE, as in doppel.
    """
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            yield rec.get(id_field, "%s:%d" % (path, lineno)), rec[text_field]
