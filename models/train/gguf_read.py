"""Reads the tensors of a GGUF file (f32, f16 and q8_0) into float32 numpy arrays, for initializing a model from a
shipped GGUF (train.py --init-from). Only what the project's own writer produces is supported.

  read_gguf(path) -> (metadata dict, {name: np.ndarray in numpy layout, i.e. shape = reversed GGUF ne})
"""
import struct

import numpy as np

_SCALARS = {0: '<B', 1: '<b', 2: '<H', 3: '<h', 4: '<I', 5: '<i', 6: '<f', 7: '<?', 10: '<Q', 11: '<q', 12: '<d'}


class _Reader:
    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take('<Q')
        s = bytes(self.buf[self.pos:self.pos + n]).decode('utf-8')
        self.pos += n
        return s

    def value(self, t):
        if t in _SCALARS:
            return self.take(_SCALARS[t])
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.take('<I'), self.take('<Q')
            return [self.value(et) for _ in range(n)]
        raise ValueError(f'GGUF value type {t} not supported')


def read_gguf(path):
    with open(path, 'rb') as f:
        buf = memoryview(f.read())
    r = _Reader(buf)
    if bytes(buf[:4]) != b'GGUF':
        raise ValueError(f'{path} is not a GGUF file')
    r.pos = 4
    version, n_tensors, n_kv = r.take('<I'), r.take('<Q'), r.take('<Q')
    if version < 2:
        raise ValueError(f'{path}: GGUF version {version} not supported')
    meta = {}
    for _ in range(n_kv):
        k = r.string()
        meta[k] = r.value(r.take('<I'))
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        nd = r.take('<I')
        ne = [r.take('<Q') for _ in range(nd)]
        infos.append((name, ne, r.take('<I'), r.take('<Q')))
    align = meta.get('general.alignment', 32)
    base = -(-r.pos // align) * align
    out = {}
    for name, ne, typ, off in infos:
        n = int(np.prod(ne))
        start = base + off
        if typ == 0:
            a = np.frombuffer(buf, dtype='<f4', count=n, offset=start)
        elif typ == 1:
            a = np.frombuffer(buf, dtype='<f2', count=n, offset=start).astype(np.float32)
        elif typ == 8:  # q8_0: blocks of 32 values: f16 scale + 32 int8
            blocks = np.frombuffer(buf, dtype=np.dtype([('d', '<f2'), ('q', 'i1', 32)]), count=n // 32, offset=start)
            a = (blocks['q'].astype(np.float32) * blocks['d'].astype(np.float32)[:, None]).reshape(-1)
        else:
            raise ValueError(f'{path}: tensor {name} has ggml type {typ}, not supported')
        out[name] = a.astype(np.float32).reshape(list(reversed(ne)))
    return meta, out
