#!/usr/bin/env python3
"""Byte-level BPE tokenizer (GPT-2 style), trained here, exported in the form llama.cpp reads (`tokenizer.ggml.model`
= "gpt2", `tokenizer.ggml.pre` = "qwen2": llama.cpp then splits text with exactly PRE_TOKENIZER_RE below and applies
the merges by rank inside each piece, which is what `encode` does).

Vocab layout: ids 0..255 = the 256 bytes (in GPT-2's byte -> printable unicode alphabet, id = byte value), then one
token per merge, in merge order, then the special tokens (CONTROL type) at the end.

  train:  tokenizer.py --train .models/train/train.jsonl --vocab-size 4096 --out .models/train/tokenizer.json
"""
import argparse
import heapq
import json
import os
import sys
from collections import Counter, defaultdict

import regex

# llama.cpp LLAMA_VOCAB_PRE_TYPE_QWEN2 (src/llama-vocab.cpp), the same as Qwen2's tokenizer.json
PRE_TOKENIZER_RE = regex.compile(
    r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

SPECIAL_TOKENS = ['<|endoftext|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|fim_pad|>', '<|file_sep|>',
                  '<|im_start|>', '<|im_end|>']

# llama.cpp token types
NORMAL, CONTROL = 1, 3


def bytes_to_unicode():
    bs = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


B2U = bytes_to_unicode()
U2B = {u: b for b, u in B2U.items()}


def pieces(text: str):
    """Pre-tokenized pieces, each as a string in the byte alphabet."""
    return [''.join(B2U[b] for b in m.encode('utf-8')) for m in PRE_TOKENIZER_RE.findall(text)]


def train_bpe(texts, vocab_size: int, log=print):
    n_merges = vocab_size - 256 - len(SPECIAL_TOKENS)
    counts = Counter()
    for t in texts:
        counts.update(pieces(t))
    words = [list(w) for w in counts]
    freqs = [counts[w] for w in counts]
    log(f'tokenizer: {len(words)} distinct pieces, {sum(freqs)} pieces in all')
    pair_count = defaultdict(int)
    where = defaultdict(set)
    for i, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += freqs[i]
            where[(a, b)].add(i)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < n_merges and heap:
        c, p = heapq.heappop(heap)
        if pair_count.get(p, 0) != -c or c == 0:
            continue
        merges.append(p)
        a, b = p
        ab = a + b
        changed = set()
        for i in list(where[p]):
            w = words[i]
            f = freqs[i]
            for x, y in zip(w, w[1:]):
                pair_count[(x, y)] -= f
                changed.add((x, y))
                where[(x, y)].discard(i)
            nw = []
            j = 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    nw.append(ab)
                    j += 2
                else:
                    nw.append(w[j])
                    j += 1
            words[i] = nw
            for x, y in zip(nw, nw[1:]):
                pair_count[(x, y)] += f
                changed.add((x, y))
                where[(x, y)].add(i)
        pair_count.pop(p, None)
        where.pop(p, None)
        for q in changed:
            cq = pair_count.get(q, 0)
            if cq > 0:
                heapq.heappush(heap, (-cq, q))
            else:
                pair_count.pop(q, None)
        if len(merges) % 500 == 0:
            log(f'tokenizer: {len(merges)} merges')
    return merges


class Tokenizer:
    def __init__(self, spec: dict):
        self.spec = spec
        self.tokens = spec['tokens']
        self.id = {t: i for i, t in enumerate(self.tokens)}
        self.ranks = {tuple(m.split(' ')): r for r, m in enumerate(spec['merges'])}
        self.special = spec['special']
        self.cache = {}

    @classmethod
    def load(cls, path: str):
        with open(path, encoding='utf-8') as f:
            return cls(json.load(f))

    def _bpe(self, word: str):
        ids = self.cache.get(word)
        if ids is not None:
            return ids
        syms = list(word)
        while len(syms) > 1:
            best, bi = None, -1
            for i in range(len(syms) - 1):
                r = self.ranks.get((syms[i], syms[i + 1]))
                if r is not None and (best is None or r < best):
                    best, bi = r, i
            if best is None:
                break
            a, b = syms[bi], syms[bi + 1]
            out, i = [], 0
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == a and syms[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            syms = out
        ids = [self.id[s] for s in syms]
        if len(self.cache) < 500_000:
            self.cache[word] = ids
        return ids

    def encode(self, text: str):
        """Token ids of plain text (special-token strings in it are NOT parsed, as llama.cpp with parse_special=false)."""
        out = []
        for p in pieces(text):
            out.extend(self._bpe(p))
        return out

    def decode(self, ids):
        bs = bytearray()
        for i in ids:
            t = self.tokens[i]
            if self.spec['types'][i] == CONTROL:
                bs.extend(t.encode('utf-8'))
            else:
                bs.extend(U2B[c] for c in t)
        return bs.decode('utf-8', errors='replace')


def build_spec(merges):
    tokens = [B2U[b] for b in range(256)]
    for a, b in merges:
        tokens.append(a + b)
    types = [NORMAL] * len(tokens)
    ids = {}
    for s in SPECIAL_TOKENS:
        ids[s] = len(tokens)
        tokens.append(s)
        types.append(CONTROL)
    assert len(set(tokens)) == len(tokens), 'duplicate tokens'
    return {
        'model': 'gpt2',
        'pre': 'qwen2',
        'tokens': tokens,
        'types': types,
        'merges': [f'{a} {b}' for a, b in merges],
        'special': {
            'bos': ids['<|endoftext|>'], 'eos': ids['<|endoftext|>'], 'eot': ids['<|im_end|>'], 'pad': ids['<|fim_pad|>'],
            'fimPre': ids['<|fim_prefix|>'], 'fimSuf': ids['<|fim_suffix|>'], 'fimMid': ids['<|fim_middle|>'],
            'fimPad': ids['<|fim_pad|>'], 'fimSep': ids['<|file_sep|>'],
            'imStart': ids['<|im_start|>'], 'imEnd': ids['<|im_end|>'],
        },
        'addBos': False,
        'addEos': False,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--train', help='jsonl with {"text"} per line')
    ap.add_argument('--from-gguf', help='take the tokenizer of this GGUF (e.g. the previous shipped model) instead of training one')
    ap.add_argument('--vocab-size', type=int, default=4096)
    ap.add_argument('--max-bytes', type=int, default=0, help='train on the first N bytes only (0: all)')
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    if args.from_gguf:
        # a model initialized from a GGUF (train.py --init-from) must keep its vocabulary, ids and merges
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from gguf_read import read_gguf
        meta, _ = read_gguf(args.from_gguf)
        spec = build_spec([tuple(m.split(' ')) for m in meta['tokenizer.ggml.merges']])
        if spec['tokens'] != meta['tokenizer.ggml.tokens'] or spec['types'] != meta['tokenizer.ggml.token_type']:
            sys.exit(f'{args.from_gguf}: its vocabulary is not what build_spec makes of its merges')
        with open(args.out, 'w', encoding='utf-8') as f:
            json.dump(spec, f, ensure_ascii=False)
        print(f'tokenizer: {len(spec["tokens"])} tokens from {args.from_gguf}', file=sys.stderr)
        return
    if not args.train:
        sys.exit('tokenizer.py needs --train JSONL or --from-gguf FILE')
    texts, n = [], 0
    with open(args.train, encoding='utf-8') as f:
        for line in f:
            t = json.loads(line)['text']
            texts.append(t)
            n += len(t)
            if args.max_bytes and n >= args.max_bytes:
                break
    merges = train_bpe(texts, args.vocab_size, log=lambda s: print(s, file=sys.stderr, flush=True))
    spec = build_spec(merges)
    with open(args.out, 'w', encoding='utf-8') as f:
        json.dump(spec, f, ensure_ascii=False)
    tok = Tokenizer(spec)
    sample = texts[0][:2000]
    ids = tok.encode(sample)
    assert tok.decode(ids) == sample, 'round trip failed'
    print(f'tokenizer: {len(spec["tokens"])} tokens, {len(merges)} merges; sample: {len(sample)} chars -> {len(ids)} tokens', file=sys.stderr)


if __name__ == '__main__':
    main()
