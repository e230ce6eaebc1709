#!/usr/bin/env python3
"""Trains hearth-code-tiny from scratch on CPU (FIM + next-token objective) and writes plain files
that scripts/packModel.ts turns into the GGUF.

  /usr/bin/python3 models/train/train.py --config models/train/config.json --data .models/train --out .models/train
      [--max-steps N] [--time-budget S] [--smoke]

Objective: each training chunk (up to n_ctx tokens of one file) is, with probability fim_rate, turned into a
fill-in-the-middle sample, else kept as plain next-token text:
  PSM: <|fim_prefix|>pre<|fim_suffix|>suf<|fim_middle|>mid<|endoftext|>
  SPM: <|fim_suffix|>suf<|fim_prefix|>pre<|fim_middle|>mid<|endoftext|>   (llama.cpp's --spm-infill order)
  plain: <|file_sep|>text
A FIM sample uses a random run of lines of the chunk (at most fim_max_chars); the middle is a random character span,
the rest of a line (optionally plus the next lines), or the inside of a bracket pair (train.fim_span_modes), and it
starts on a token boundary, where the engine's token healing leaves the prefix at inference. Samples are packed into windows
of n_ctx + 1 tokens (FIM samples are never cut); the loss is on every token.

Stopping: at train.time_budget_s of dedicated-machine time (CPU seconds / threads: the wall clock of an idle
machine with that many cores), at --max-steps N / train.max_steps (0: no step limit), or at --wall-cap S (wall clock,
for shared machines), whichever comes first. The cosine learning-rate schedule follows the progress
max(step / max_steps, used / budget, wall / wall_cap), so the rate decays fully whichever limit ends the run.

Data parallel: with train.processes = N > 1, N processes (train.threads each) train on their own share of the chunks
and average gradients (torch.distributed, gloo on 127.0.0.1); process 0 logs, evaluates and exports.

Initialization: random, or (--init-from / train.init_from) the weights of a shipped GGUF of the same width and
depth ("sparse upcycling" when this config has experts and the GGUF is dense: every expert starts as a copy of
the dense FFN plus a little noise, the router starts random, so the model starts out computing what the dense one
did and the experts then specialize). The GGUF's vocabulary must be the tokenizer's.

Checkpoints: every train.checkpoint_every_s seconds of wall clock process 0 writes OUT/checkpoint.pt (weights,
optimizer, step, tokens, time used so far); --resume continues from it (the data stream restarts in a new seeded
order, so a resumed run sees different windows than an uninterrupted one: it is not bit-identical to one).

Outputs in --out: weights.bin (little-endian f32 tensors, in weights.json order), weights.json, model.pt,
run.json (steps, times, losses), reference.json (PyTorch logits for a few prompts, to compare with llama.cpp).
"""
import argparse
import bisect
import json
import math
import os
import random
import sys
import time


def _threads_from_config():
    # BLAS/OpenMP thread counts must be set before numpy and torch are imported
    path = 'models/train/config.json'
    for i, a in enumerate(sys.argv):
        if a == '--config' and i + 1 < len(sys.argv):
            path = sys.argv[i + 1]
    try:
        with open(path, encoding='utf-8') as f:
            return str(json.load(f)['train']['threads'])
    except (OSError, ValueError, KeyError):
        return '1'


for _v in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):
    os.environ.setdefault(_v, _threads_from_config())

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_read import read_gguf  # noqa: E402
from model import Llama  # noqa: E402
from tokenizer import PRE_TOKENIZER_RE, Tokenizer  # noqa: E402

T0 = time.time()


def log(msg):
    print(f'[{time.time() - T0:7.1f}s] {msg}', flush=True)


def load_jsonl(path):
    with open(path, encoding='utf-8') as f:
        return [json.loads(l) for l in f]


def chunk_doc(text, tok, max_tokens):
    """Splits a file at line boundaries into chunks of at most ~max_tokens tokens."""
    chunks, cur, cur_n = [], [], 0
    for line in text.split('\n'):
        n = len(tok.encode(line)) + 1
        if cur and cur_n + n > max_tokens:
            chunks.append('\n'.join(cur) + '\n')
            cur, cur_n = [], 0
        cur.append(line)
        cur_n += n
    if cur:
        last = '\n'.join(cur)
        if last.strip():
            chunks.append(last)
    return chunks


def find_close(s, p):
    pairs = {'(': ')', '[': ']', '{': '}'}
    depth = 0
    for i in range(p, min(len(s), p + 400)):
        c = s[i]
        if c in pairs:
            depth += 1
        elif c in ')]}':
            depth -= 1
            if depth == 0:
                return i if pairs[s[p]] == c else -1
    return -1


def piece_starts(s):
    """Where the pre-tokenizer's pieces start: BPE tokens never cross them, so a prefix cut there ends on a token
    boundary, as it does at inference after token healing (the engine takes back the prefix's last token and lets
    the model write a whole token that begins with it)."""
    return [m.start() for m in PRE_TOKENIZER_RE.finditer(s)] + [len(s)]


def snap(starts, c, lo=0):
    """The last piece start at or before c (but not before lo)."""
    k = bisect.bisect_right(starts, c) - 1
    return max(lo, starts[k]) if k >= 0 else lo


def fim_split(s, rng, modes):
    """(pre, mid, suf) for one chunk; the middle starts on a token boundary (see piece_starts)."""
    pre, mid, suf = fim_split_chars(s, rng, modes)
    c = snap(piece_starts(s), len(pre))
    return s[:c], s[c:len(pre) + len(mid)], suf


def fim_split_chars(s, rng, modes):
    n = len(s)
    r = rng.random()
    if r < modes['rest_of_line']:
        starts = [0] + [i + 1 for i, c in enumerate(s) if c == '\n' and i + 1 < n]
        starts = [a for a in starts if s[a:s.find('\n', a) if s.find('\n', a) >= 0 else n].strip()]
        if starts:
            a = rng.choice(starts)
            e = s.find('\n', a)
            e = n if e < 0 else e
            ind = a + len(s[a:e]) - len(s[a:e].lstrip())
            c = rng.randint(ind, e - 1) if e - 1 > ind else ind
            end = e
            while rng.random() < modes.get('more_lines', 0.25) and end < n:  # sometimes the next line(s) too
                nx = s.find('\n', end + 1)
                end = n if nx < 0 else nx
            return s[:c], s[c:end], s[end:]
    elif r < modes['rest_of_line'] + modes['bracket']:
        opens = [i for i, c in enumerate(s) if c in '([{']
        rng.shuffle(opens)
        for p in opens[:5]:
            q = find_close(s, p)
            if q > p:
                return s[:p + 1], s[p + 1:q], s[q:]
    i, j = sorted((rng.randint(0, n), rng.randint(0, n)))
    return s[:i], s[i:j], s[j:]


def fim_window(chunk, rng, max_chars):
    """A random run of whole lines of the chunk, at most ~max_chars long: FIM samples stay short, so several fit in
    one training window and their middles are not cut off by the packing."""
    if len(chunk) <= max_chars:
        return chunk
    starts = [0] + [i + 1 for i, c in enumerate(chunk) if c == '\n' and i + 1 < len(chunk)]
    a = rng.choice([x for x in starts if x < len(chunk) - max_chars // 2] or [0])
    e = chunk.rfind('\n', a, a + max_chars)
    return chunk[a:e + 1] if e > a else chunk[a:a + max_chars]


def sample_tokens(chunk, tok, rng, tc):
    """(tokens, is_fim) for one chunk."""
    sp = tok.special
    if rng.random() >= tc['fim_rate'] or len(chunk) < 8:
        return [sp['fimSep']] + tok.encode(chunk), False
    # window lengths vary between fim_min_chars and fim_max_chars: shorter samples pack more middles per window
    max_chars = rng.randint(tc['fim_min_chars'], tc['fim_max_chars']) if tc.get('fim_min_chars') else tc['fim_max_chars']
    pre, mid, suf = fim_split(fim_window(chunk, rng, max_chars), rng, tc['fim_span_modes'])
    p, m, s = tok.encode(pre), tok.encode(mid), tok.encode(suf)
    if rng.random() < tc['spm_share_of_fim']:
        return [sp['fimSuf']] + s + [sp['fimPre']] + p + [sp['fimMid']] + m + [sp['eos']], True
    return [sp['fimPre']] + p + [sp['fimSuf']] + s + [sp['fimMid']] + m + [sp['eos']], True


def middle_weights(x, special, weight):
    """Loss weights [B, T] for the targets x[:, 1:]: `weight` for FIM middle tokens and the end-of-text that closes
    them (what the model writes at a cursor: a few tokens per sample, ~1 % of all targets), 1 elsewhere."""
    w = np.ones((x.shape[0], x.shape[1] - 1), dtype=np.float32)
    if weight == 1.0:
        return torch.from_numpy(w)
    xs = x.numpy()
    opens = {special['fimMid']}
    closes = {special['eos'], special['fimSep'], special['fimPre'], special['fimSuf']}
    for b in range(xs.shape[0]):
        inside = False
        for i in range(xs.shape[1] - 1):
            t = int(xs[b, i])
            if t in opens:
                inside = True
            elif t in closes:
                inside = False
            if inside:
                w[b, i] = weight
    return torch.from_numpy(w)


def windows(chunks, tok, seed, T, tc):
    """Endless stream of (T + 1)-token windows, epoch after epoch, each epoch in a new seeded order. Plain samples
    may be cut at a window's end; a FIM sample that does not fit moves to the next window whole (the rest of the
    current window is filled with the chunk's plain text), so every middle is trained on with its context."""
    epoch = 0
    buf = []
    while True:
        rng = random.Random(seed * 1000 + epoch)
        order = list(range(len(chunks)))
        rng.shuffle(order)
        for k in order:
            toks, fim = sample_tokens(chunks[k], tok, rng, tc)
            toks = toks[:T + 1]
            room = T + 1 - len(buf)
            if fim and len(toks) > room:
                plain = [tok.special['fimSep']] + tok.encode(chunks[k])
                if len(plain) < room:  # the plain text fits: use it instead
                    buf.extend(plain)
                    continue
                buf.extend(plain[:room])
                yield buf
                buf = list(toks)
                continue
            buf.extend(toks[:room])
            if len(buf) == T + 1:
                yield buf
                buf = []
        epoch += 1
        log(f'epoch {epoch} done')


def heldout_windows(docs, tok, T, limit):
    ids = []
    for d in docs:
        ids += [tok.special['fimSep']] + tok.encode(d['text'])
    out = [ids[i:i + T + 1] for i in range(0, len(ids) - T - 1, T + 1)]
    return torch.tensor(out[:limit], dtype=torch.long)


@torch.no_grad()
def init_from_gguf(model, path, tok, seed, noise):
    """Loads a GGUF's weights into `model` (see the file comment); returns a description for the run record."""
    meta, t = read_gguf(path)
    if meta.get('tokenizer.ggml.tokens') != tok.tokens:
        raise SystemExit(f'--init-from {path}: its vocabulary is not the tokenizer\'s (retrain neither, or start from random weights)')
    g = torch.Generator().manual_seed(seed)
    own = dict(model.gguf_named_params())
    done = []
    for name, param in own.items():
        if name in t:
            src = torch.from_numpy(t[name].copy())
            if tuple(src.shape) != tuple(param.shape):
                raise SystemExit(f'--init-from {path}: {name} has shape {tuple(src.shape)}, the model {tuple(param.shape)}')
            param.copy_(src)
            done.append(name)
            continue
        # upcycling: ffn_gate_exps <- ffn_gate, etc.; the router (ffn_gate_inp) keeps its random init
        dense = name.replace('_exps.weight', '.weight')
        if dense != name and dense in t:
            src = torch.from_numpy(t[dense].copy())
            e = param.shape[0]
            rep = src.unsqueeze(0).expand(e, *src.shape).clone()
            rep += torch.randn(rep.shape, generator=g) * (noise * src.std())
            param.copy_(rep)
            done.append(name)
    return {'file': path, 'tensors_loaded': len(done), 'tensors_random': sorted(set(own) - set(done)), 'expert_noise': noise}


@torch.no_grad()
def eval_loss(model, data, bs=4):
    model.eval()
    tot, n = 0.0, 0
    for i in range(0, len(data), bs):
        x = data[i:i + bs]
        logits = model(x[:, :-1])
        tot += F.cross_entropy(logits.reshape(-1, logits.size(-1)), x[:, 1:].reshape(-1), reduction='sum').item()
        n += x[:, 1:].numel()
    model.train()
    return tot / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--config', default='models/train/config.json')
    ap.add_argument('--data', default='.models/train')
    ap.add_argument('--out', default='.models/train')
    ap.add_argument('--max-steps', type=int, default=None)
    ap.add_argument('--time-budget', type=float, default=None)
    ap.add_argument('--smoke', action='store_true', help='2-minute run to check the pipeline end to end')
    ap.add_argument('--wall-cap', type=float, default=None, help='also stop after this many wall-clock seconds (shared machines)')
    ap.add_argument('--skip-initial-eval', action='store_true', help='no held-out loss before training (saves time)')
    ap.add_argument('--init-from', default=None, help='GGUF to start from (default: train.init_from; "" for random)')
    ap.add_argument('--resume', action='store_true', help='continue from OUT/checkpoint.pt')
    ap.add_argument('--checkpoint', default=None, help='checkpoint file for --resume / --export-only (default OUT/checkpoint.pt)')
    ap.add_argument('--export-only', action='store_true',
                    help='no training: export the checkpoint (e.g. of a run still going) to OUT, one process')
    args = ap.parse_args()
    with open(args.config, encoding='utf-8') as f:
        cfg = json.load(f)
    procs = 1 if args.export_only else cfg['train'].get('processes', 1)
    if procs > 1:
        # Data parallel over `processes` CPU processes (one core each): torch's intra-op threads scale badly on
        # these small matrices (2 threads train slower than 1), two processes that average gradients do not.
        os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
        os.environ.setdefault('MASTER_PORT', str(29500 + os.getpid() % 1000))
        torch.multiprocessing.spawn(train, args=(procs, args, cfg), nprocs=procs, join=True)
    else:
        train(0, 1, args, cfg)


def train(rank, procs, args, cfg):
    distributed = procs > 1
    if distributed:
        import torch.distributed as dist
        import datetime
        # a long timeout: the run may be paused (SIGSTOP to its process group) for a benchmark, and a collective
        # that waited through the pause must not fail when it continues
        dist.init_process_group('gloo', rank=rank, world_size=procs, timeout=datetime.timedelta(hours=12))
    lead = rank == 0
    mc, tc = cfg['model'], cfg['train']
    if args.smoke:
        tc['time_budget_s'] = 120
    if args.time_budget is not None:
        tc['time_budget_s'] = args.time_budget
    max_steps = args.max_steps if args.max_steps is not None else tc['max_steps']

    seed = cfg['seed']
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.set_num_threads(tc['threads'])
    if not lead:
        global log
        log = lambda msg: None  # noqa: E731 - only the lead process reports
    log(f'torch {torch.__version__}, {torch.get_num_threads()} threads, {procs} process(es)')

    tok = Tokenizer.load(os.path.join(args.out, 'tokenizer.json'))
    assert len(tok.tokens) == mc['n_vocab'], (len(tok.tokens), mc['n_vocab'])
    T = mc['n_ctx']
    docs = load_jsonl(os.path.join(args.data, 'train.jsonl'))
    chunks = [c for d in docs for c in chunk_doc(d['text'], tok, T - 8)]
    log(f'{len(docs)} files -> {len(chunks)} chunks')
    all_chunks = len(chunks)
    chunks = chunks[rank::procs]  # each process trains on its own share
    held = heldout_windows(load_jsonl(os.path.join(args.data, 'heldout.jsonl')), tok, T, 16)

    model = Llama(mc)
    n_params = sum(p.numel() for p in model.parameters())
    n_active = n_params
    if mc.get('n_expert'):
        per_expert = 3 * mc['n_embd'] * mc['n_ff']
        n_active -= mc['n_layer'] * (mc['n_expert'] - mc['n_expert_used']) * per_expert
    log(f'model: {n_params} parameters, {n_active} active per token')
    init_from = args.init_from if args.init_from is not None else tc.get('init_from', '')
    init_info = None
    if init_from:
        init_info = init_from_gguf(model, init_from, tok, seed, tc.get('upcycle_noise', 0.01))
        log(f'initialized from {init_from}: {init_info["tensors_loaded"]} tensors, random: {init_info["tensors_random"]}')
    aux_coef = tc.get('moe_aux_loss', 0.0)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': tc['weight_decay']}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=tc['lr'], betas=(tc['beta1'], tc['beta2']))
    ckpt_path = args.checkpoint or os.path.join(args.out, 'checkpoint.pt')
    resumed = None
    if args.resume or args.export_only:
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['opt'])
        resumed = ck
        log(f'resumed from {ckpt_path} at step {ck["step"]} ({ck["tokens_seen"]} tokens, {ck["used"]:.0f}s used, {ck["wall"]:.0f}s wall)')
    stream = windows(chunks, tok, seed + rank + (7919 * resumed['step'] if resumed else 0), T, tc)
    net = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
    B = tc['batch_size']
    log(f'batch {B} x {T} tokens, time budget {tc["time_budget_s"]}s, max_steps {max_steps or "none"}')
    budget = tc['time_budget_s']

    loss0 = float('nan') if args.skip_initial_eval or resumed else eval_loss(model, held)
    log(f'held-out loss before training {loss0:.3f}')
    t_start = time.time() - (resumed['wall'] if resumed else 0)
    c_start = time.process_time() - (resumed['used'] * tc['threads'] if resumed else 0)
    threads = tc['threads']
    wall_cap = tc.get('wall_cap_s', 0) if args.wall_cap is None else args.wall_cap
    total = max_steps if max_steps else 10**9

    def used():
        """Training time so far as a dedicated `threads`-core machine would spend it: CPU seconds / threads. On a shared,
        loaded machine the wall clock says more about the other jobs than about this one."""
        return (time.process_time() - c_start) / threads

    def progress(step):
        p = step / total if total < 10**9 else 0.0
        p = max(p, used() / budget)
        if wall_cap:
            p = max(p, (time.time() - t_start) / wall_cap)
        return min(1.0, p)

    def sync(step):
        """(progress, over budget, over wall cap) agreed by every process: the one furthest along decides, so all
        take the same learning rate and stop at the same step."""
        state = [progress(step), float(used() >= budget), float(bool(wall_cap) and time.time() - t_start >= wall_cap)]
        if distributed:
            t = torch.tensor(state)
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            state = t.tolist()
        return state

    def lr_now(step, pr):
        if step < tc['warmup_steps']:
            return tc['lr'] * (step + 1) / tc['warmup_steps']
        return tc['lr'] * (tc['min_lr_ratio'] + (1 - tc['min_lr_ratio']) * 0.5 * (1 + math.cos(math.pi * pr)))

    step, ema, stopped_by = 0, None, 'steps'
    tokens_seen = 0
    resumes = []
    if resumed:
        step, ema, tokens_seen = resumed['step'], resumed['ema'], resumed['tokens_seen']
        resumes = resumed.get('resumes', []) + [step]
        loss0 = resumed.get('loss0', loss0)
    ckpt_every = tc.get('checkpoint_every_s', 0)
    if args.export_only:
        total, stopped_by = step, 'export of a checkpoint (--export-only)'
    last_ckpt = time.time()
    while step < total:
        pr, over_budget, over_wall = sync(step)
        if over_budget:
            stopped_by = 'time budget (CPU seconds / threads)'
            break
        if over_wall:
            stopped_by = 'wall-clock cap'
            break
        x = torch.tensor([next(stream) for _ in range(B)], dtype=torch.long)
        for g in opt.param_groups:
            g['lr'] = lr_now(step, pr)
        logits = net(x[:, :-1])
        losses = F.cross_entropy(logits.reshape(-1, logits.size(-1)), x[:, 1:].reshape(-1), reduction='none')
        w = middle_weights(x, tok.special, tc.get('middle_loss_weight', 1.0)).reshape(-1)
        loss = (losses * w).sum() / w.sum()
        aux = None
        if aux_coef and mc.get('n_expert'):
            aux = sum(b.ffn.aux_loss for b in model.blocks) / len(model.blocks)
            loss_total = loss + aux_coef * aux
        else:
            loss_total = loss
        opt.zero_grad(set_to_none=True)
        loss_total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc['grad_clip'])
        opt.step()
        step += 1
        tokens_seen += B * T * procs
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        if step % 25 == 0 or step == total:
            el = time.time() - t_start
            log(f'step {step} loss {ema:.3f} lr {opt.param_groups[0]["lr"]:.2e} progress {progress(step):.2f} '
                f'{tokens_seen / el:.0f} tok/s wall, {tokens_seen / max(1e-9, used()):.0f} tok/s dedicated'
                + (f' aux {aux.item():.3f} load {model.blocks[-1].ffn.last_load}' if aux is not None else ''))
        if ckpt_every and time.time() - last_ckpt >= ckpt_every:
            last_ckpt = time.time()
            if lead:
                torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'ema': ema,
                            'tokens_seen': tokens_seen, 'used': used(), 'wall': time.time() - t_start, 'loss0': loss0,
                            'resumes': resumes}, ckpt_path + '.tmp')
                os.replace(ckpt_path + '.tmp', ckpt_path)
                log(f'checkpoint at step {step}')
    train_s = time.time() - t_start
    dedicated_s = used()
    if distributed:
        dist.destroy_process_group()
    if not lead:
        return
    loss1 = eval_loss(model, held)
    log(f'trained {step} steps ({tokens_seen} tokens) in {train_s:.0f}s wall, {dedicated_s:.0f}s dedicated-machine time (CPU s / {threads}), stopped by {stopped_by}; held-out loss {loss1:.3f}')

    # ---- export -------------------------------------------------------------------------------------------------
    model.eval()
    torch.save(model.state_dict(), os.path.join(args.out, 'model.pt'))
    index, off = [], 0
    with open(os.path.join(args.out, 'weights.bin'), 'wb') as f:
        for name, arr in model.gguf_tensors():
            b = arr.astype('<f4').tobytes()
            f.write(b)
            index.append({'name': name, 'shape': list(arr.shape), 'offset': off})
            off += len(b)
    with open(os.path.join(args.out, 'weights.json'), 'w', encoding='utf-8') as f:
        json.dump({'config': cfg, 'tensors': index}, f, indent=1)

    prompts = [
        ('plain', 'function add(a, b) {\n  return'),
        ('plain', 'import { readFileSync } from'),
        ('fim', ('const items = [];\nfor (let i = 0; i < 10; i++) {\n  items.', ');\n}\n')),
        ('fim', ('export function isEmpty(value: string): boolean {\n  return value.', ' === 0;\n}\n')),
    ]
    ref = []
    with torch.no_grad():
        for kind, p in prompts:
            sp = tok.special
            ids = tok.encode(p) if kind == 'plain' else [sp['fimPre']] + tok.encode(p[0]) + [sp['fimSuf']] + tok.encode(p[1]) + [sp['fimMid']]
            lg = model(torch.tensor([ids]))[0, -1]
            top = torch.topk(lg, 20)
            ref.append({'kind': kind, 'text': p, 'tokens': ids, 'top': [[int(i), float(v)] for v, i in zip(top.values, top.indices)]})
    with open(os.path.join(args.out, 'reference.json'), 'w', encoding='utf-8') as f:
        json.dump(ref, f, indent=1)
    run = {'name': cfg['name'], 'seed': seed, 'params': n_params, 'steps': step, 'max_steps': max_steps or None, 'threads': threads, 'processes': procs,
           'dedicated_seconds': round(dedicated_s, 1), 'wall_cap_s': wall_cap,
           'stopped_by': stopped_by, 'tokens_seen': tokens_seen, 'train_seconds': round(train_s, 1),
           'total_seconds': round(time.time() - T0, 1), 'heldout_loss_before': None if math.isnan(loss0) else round(loss0, 4),
           'heldout_loss_after': round(loss1, 4), 'final_train_loss_ema': round(ema or 0, 4), 'torch': torch.__version__,
           'chunks': all_chunks, 'active_params': n_active, 'init_from': init_info, 'resumed_at_steps': resumes,
           'moe_aux_loss': aux_coef}
    with open(os.path.join(args.out, 'run.json'), 'w', encoding='utf-8') as f:
        json.dump(run, f, indent=1)
    log(f'done: {json.dumps(run)}')


if __name__ == '__main__':
    main()
