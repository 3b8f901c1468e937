"""Diversity state of a corpus (or one source of it), built a batch at a time in bounded memory.

``prepare_part`` is the pure per-batch work (tokens, n-gram hashes, HyperLogLog registers, the
batch's token counts, MinHash signatures of the records entering the self-similarity sample);
``DiversityState.update`` folds one part in. ``DiversityState.figures`` gives the numbers.

Memory: one ``FrequentItems`` table (≤ capacity × 24 bytes, 24 MiB at the default 2**20), four
HyperLogLogs (16 KiB each), a 2**16-bucket token histogram (512 KiB), a length histogram and the
sample's signatures (sample × num_perm × 8 bytes, 512 KiB by default).
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, fields

from ..errors import AuditError
from ..lazy import np
from ..sketches.frequent import FrequentItems
from ..sketches.hashing import mix64
from ..sketches.hll import HyperLogLog, index_rank
from ..sketches.vocabulary import VocabularySample
from ..text.limits import clip_for_analysis
from ..text.memo import per_batch
from ..text.minhash import set_signatures
from ..text.tokens import Tokens, batch_tokens, iter_ngrams, record_index, tokenize

N_MAX = 4


@functools.cache
def length_edges() -> np.ndarray:
    """Where the token-length histogram's bins start: exact bins 0..63, then 16 bins per doubling
    (≈ 4.4 % wide) up to 2**26. Built on first use: importing this module does not import numpy."""
    edges = np.unique(np.concatenate([
        np.arange(64), np.round(64 * 2.0 ** (np.arange(0, 20 * 16 + 1) / 16.0))
    ])).astype(np.int64)
    edges.flags.writeable = False
    return edges


def length_bins(lengths: np.ndarray) -> np.ndarray:
    """The length histogram bin of each record length (bins start at ``length_edges()``)."""
    return np.searchsorted(length_edges(), lengths, side="right") - 1


@dataclass(frozen=True)
class DiversityParams:
    """Sketch sizes of the diversity figures; a profile stores them so a scan can match them."""
    hll_p: int = 14                  # distinct counts: relative std error 1.04 / sqrt(2**p)
    capacity: int = 1 << 20          # Misra–Gries table size (token counts)
    tail_cut: float = 1e-5           # tail = token types with frequency below this share of all tokens
    sample: int = 1000               # self-similarity sample size (records)
    sim_ngram: int = 1               # self-similarity shingles: word n-grams (1 = token sets)
    num_perm: int = 64               # MinHash permutations per sampled record
    residual_bits: int = 16          # hashed token histogram kept for baseline profiles (2**bits buckets)

    @classmethod
    def from_options(cls, options: dict | None) -> DiversityParams:
        """Parameters from a saved profile's ``params`` (other keys are ignored here). The policy's
        ``diversity:`` section is validated at load as typed options (``checks.diversity``)."""
        options = dict(options or {})
        kwargs = {}
        for f in fields(cls):
            if f.name not in options:
                continue
            kind = type(getattr(cls, f.name))
            try:
                value = kind(options[f.name])
            except (TypeError, ValueError):
                raise AuditError(f"diversity.{f.name} must be a number (got {options[f.name]!r}).") from None
            lo, hi = _RANGES[f.name]
            if not lo <= value <= hi:
                raise AuditError(f"diversity.{f.name} must be between {lo} and {hi} (got {value}).")
            kwargs[f.name] = value
        return cls(**kwargs)

    def small(self) -> DiversityParams:
        """Parameters for per-source states: smaller sketches, no sample."""
        return DiversityParams(hll_p=self.hll_p, capacity=min(self.capacity, 1 << 14),
                               tail_cut=self.tail_cut, sample=0, sim_ngram=self.sim_ngram,
                               num_perm=self.num_perm, residual_bits=8)

    def to_json(self) -> dict:
        """The parameters as a JSON-able dict for profiles and shard states."""
        return asdict(self)


_RANGES = {"hll_p": (4, 18), "capacity": (1024, 1 << 26), "tail_cut": (1e-12, 0.5), "sample": (0, 20000),
           "sim_ngram": (1, 16), "num_perm": (8, 1024), "residual_bits": (8, 20)}

MAX_SOURCES_PER_BATCH = 64
OTHER = "(other)"
NONE = "(missing)"


def _hll_groups(idx: np.ndarray, rank: np.ndarray, groups: np.ndarray | None, ngroups: int, p: int) -> np.ndarray:
    """HLL registers per group: shape (ngroups, 2**p)."""
    m = 1 << p
    reg = np.zeros(ngroups * m, dtype=np.uint8)
    if len(idx):
        np.maximum.at(reg, idx if groups is None else idx + groups * m, rank)
    return reg.reshape(ngroups, m)


@per_batch
def prepare_part(batch, params: DiversityParams, seed: int, source_field: str | None = None) -> dict:
    """Pure per-batch work for ``DiversityState.update`` (computed once per batch object and settings:
    the diversity and drift checks share it when their settings agree)."""
    tok: Tokens = batch_tokens(batch)
    n = len(tok)
    lengths = tok.lengths
    keys, counts = tok.counts()
    codes, names = _batch_sources(batch, source_field, n)

    # self-similarity sample: a bottom-k sample by a seeded priority of each record's (file, row)
    # slot, so the sample does not depend on batching, workers or shards; the state computes the
    # signatures of the few records that enter it (``DiversityState.update``)
    gidx = batch.start + np.arange(n, dtype=np.int64)
    prio = sample_priority(seed, batch.file_index, np.asarray(batch.rows, dtype=np.int64)) \
        if params.sample > 0 else None

    hll, totals, src_hll, src_totals = _ngram_registers(tok, params.hll_p, codes, len(names))
    sample = None if prio is None else {"index": gidx, "prio": prio, "seed": seed}
    part = {"records": n, "lengths": lengths.astype(np.int64), "keys": keys, "counts": counts,
            "hll": hll, "ngrams": totals, "sample": sample, "sources": None}
    if codes is not None:
        part["sources"] = _source_parts(tok, codes, names, src_hll, src_totals)
        part["codes"] = codes
        part["names"] = names
    return part


def _batch_sources(batch, source_field: str | None, n: int) -> tuple[np.ndarray | None, list[str]]:
    """(code of each record's source, source names) of this batch; (None, []) when it is not split by
    source. Grouped as the engine's per-source index groups: blank -> "(missing)", first-seen order,
    sources past ``MAX_SOURCES_PER_BATCH`` pooled as "(other)" to bound the per-source state."""
    if not source_field or source_field not in batch.fields:
        return None, []
    values = [NONE if v is None or (isinstance(v, str) and not v.strip()) else str(v)
              for v in batch.fields[source_field]]
    first: dict[str, int] = {}
    codes = np.fromiter((first.setdefault(v, len(first)) for v in values), dtype=np.int64, count=n)
    names = list(first)
    if len(names) > MAX_SOURCES_PER_BATCH:
        codes = np.minimum(codes, MAX_SOURCES_PER_BATCH)
        names = names[:MAX_SOURCES_PER_BATCH] + [OTHER]
    return codes, names


def _ngram_registers(tok: Tokens, p: int, codes: np.ndarray | None,
                     nsources: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """HyperLogLog registers and n-gram totals for n = 1..N_MAX, for the batch and per source
    (the per-source arrays have no rows when ``codes`` is None): what the distinct-n figures count."""
    hll = np.zeros((N_MAX, 1 << p), dtype=np.uint8)
    totals = np.zeros(N_MAX, dtype=np.int64)
    src_hll = np.zeros((nsources, N_MAX, 1 << p), dtype=np.uint8)
    src_totals = np.zeros((nsources, N_MAX), dtype=np.int64)
    for k, h, r in iter_ngrams(tok, N_MAX):
        if k <= N_MAX:
            totals[k - 1] = len(h)
            idx, rank = index_rank(h, p)
            hll[k - 1] = _hll_groups(idx, rank, None, 1, p)[0]
            if codes is not None:
                c = codes[r]
                src_hll[:, k - 1] = _hll_groups(idx, rank, c, nsources, p)
                src_totals[:, k - 1] = np.bincount(c, minlength=nsources)
    return hll, totals, src_hll, src_totals


def _source_parts(tok: Tokens, codes: np.ndarray, names: list[str], src_hll: np.ndarray,
                  src_totals: np.ndarray) -> dict[str, dict]:
    """One part per source of the batch (records, lengths, sorted token counts, its registers), so
    each source's state folds in its own records without a second pass over the texts."""
    vocab = tok.vocab if tok.vocab is not None else np.zeros(0, np.uint64)
    nv = len(vocab)
    if nv:
        # token counts per (source, distinct token) in one bincount
        tok_code = codes[record_index(tok)]
        grid = np.bincount(tok_code * nv + tok.ids, minlength=len(names) * nv).reshape(len(names), nv)
        order = np.argsort(vocab)
        vocab_sorted = vocab[order]
        grid = grid[:, order]
    sources = {}
    for ci, name in enumerate(names):
        if nv:
            keep = grid[ci] > 0
            k_, c_ = vocab_sorted[keep], grid[ci][keep].astype(np.int64)
        else:
            k_, c_ = np.zeros(0, np.uint64), np.zeros(0, np.int64)
        sel = codes == ci
        sources[name] = {"records": int(sel.sum()), "lengths": tok.lengths[sel].astype(np.int64),
                         "keys": k_, "counts": c_, "hll": src_hll[ci], "ngrams": src_totals[ci], "sample": None}
    return sources


def sample_priority(seed: int, file_index: int, rows: np.ndarray) -> np.ndarray:
    """Seeded 64-bit priority of each (file, row) slot: the sample keeps the lowest ones."""
    slots = (np.uint64(file_index) << np.uint64(40)) ^ rows.astype(np.uint64)
    return mix64(mix64(slots, salt=seed * 2 + 1), salt=11)


def sample_signatures(texts: list[str], params: DiversityParams, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(valid, signatures) of the self-similarity sample's records: MinHash over their word
    ``sim_ngram``-grams; a record without one (empty or too short) is invalid."""
    sig = np.zeros((len(texts), params.num_perm), np.uint64)
    valid = np.zeros(len(texts), bool)
    if texts:
        tok = tokenize(clip_for_analysis(texts))  # capped like every analysis: see text/limits.py
        seeds = mix64(np.arange(params.num_perm, dtype=np.uint64), salt=seed + 12345)
        for k, h, r in iter_ngrams(tok, params.sim_ngram):
            if k == params.sim_ngram:
                recs, sigs = set_signatures(h, r, seeds)
                sig[recs] = sigs
                valid[recs] = True
    return valid, sig


EMPTY = (1 << 64) - 1          # np.iinfo(np.uint64).max
#: a sampled state counts a type on its own when it holds at least 1/HEAVY of the tokens
HEAVY = 4096
#: how many of the corpus's most frequent tokens a per-source state is offered as heavy candidates
HEAVY_CANDIDATES = 16384


class DiversityState:
    """Diversity sketches of one corpus (or one source).

    ``vocabulary_sample`` counts tokens with a ``VocabularySample`` (exact, or a hash sample of the
    types that merges exactly in any order) instead of Misra-Gries heavy hitters: per-source states
    use it, so their figures are the same for any worker count; the corpus-wide state keeps the
    heavy hitters a baseline profile is built from.
    """

    def __init__(self, params: DiversityParams, vocabulary_sample: bool = False):
        self.params = params
        self.records = 0
        self.freq: FrequentItems | VocabularySample = (
            VocabularySample(params.capacity) if vocabulary_sample else FrequentItems(params.capacity))
        self.hll = [HyperLogLog(params.hll_p) for _ in range(N_MAX)]
        self.ngrams = np.zeros(N_MAX, dtype=np.int64)
        self.buckets = np.zeros(1 << params.residual_bits, dtype=np.int64)
        self.length_hist = np.zeros(len(length_edges()), dtype=np.int64)
        self.length_sum = 0
        self.length_sq = 0
        self.empty = 0
        self.sample_sig = np.zeros((0, params.num_perm), np.uint64)    # kept sorted by priority
        self.sample_valid = np.zeros(0, bool)
        self.sample_index = np.zeros(0, np.int64)
        self.sample_prio = np.zeros(0, np.uint64)

    def _keep_sample(self, prio, index, valid, sig) -> None:
        """Keep the ``sample`` lowest priorities of the current sample and these records."""
        prio = np.concatenate([self.sample_prio, prio])
        index = np.concatenate([self.sample_index, index])
        order = np.lexsort((index, prio))[: self.params.sample]
        self.sample_prio, self.sample_index = prio[order], index[order]
        self.sample_valid = np.concatenate([self.sample_valid, valid])[order]
        self.sample_sig = np.concatenate([self.sample_sig, sig])[order]

    def merge(self, other: DiversityState) -> None:
        """Fold in the state of the records that follow this state's (indices rebased). Exact
        for every figure while the token table has not overflowed (counts add, HyperLogLog
        registers take the maximum, the sample keeps the lowest priorities); past that the table
        is merged as a mergeable summary (Agarwal et al. 2012) whose stated ``error`` bounds every
        count exactly as for one scan, but which entries survive may differ."""
        base = self.records
        self.records += other.records
        self.freq.merge(other.freq)  # type: ignore[arg-type]  # both states are built alike
        for mine, theirs in zip(self.hll, other.hll, strict=True):
            mine.merge(theirs)
        self.ngrams += other.ngrams
        self.buckets += other.buckets
        self.length_hist += other.length_hist
        self.length_sum += other.length_sum
        self.length_sq += other.length_sq
        self.empty += other.empty
        if self.params.sample:
            self._keep_sample(other.sample_prio, other.sample_index + base, other.sample_valid, other.sample_sig)

    def update(self, part: dict, texts: list[str] | None = None) -> None:
        """Fold one batch's part in; ``texts`` (the batch's) are needed for the self-similarity
        sample's signatures, computed only for the records that enter it."""
        self.records += part["records"]
        keys, counts = part["keys"], part["counts"]
        self.freq.update(keys, counts)
        if len(keys):
            mask = np.uint64((1 << self.params.residual_bits) - 1)
            self.buckets += np.bincount((keys & mask).astype(np.intp), weights=counts,
                                        minlength=len(self.buckets)).astype(np.int64)
        for k in range(N_MAX):
            self.hll[k].merge(part["hll"][k])
        self.ngrams += part["ngrams"]
        lengths = part["lengths"]
        self.length_hist += np.bincount(length_bins(lengths), minlength=len(length_edges()))
        self.length_sum += int(lengths.sum())
        self.length_sq += int((lengths.astype(np.float64) ** 2).sum())
        self.empty += int((lengths == 0).sum())
        s = part.get("sample")
        if s is not None and self.params.sample:
            S = self.params.sample
            prio = s["prio"]
            bar = self.sample_prio[-1] if len(self.sample_prio) >= S else EMPTY
            enter = np.flatnonzero(prio <= bar)
            if len(enter) > S:
                enter = np.sort(enter[np.lexsort((s["index"][enter], prio[enter]))[:S]])
            if len(enter):
                if texts is None:
                    raise ValueError("the self-similarity sample needs the batch's texts")
                valid, sig = sample_signatures([texts[i] for i in enter.tolist()], self.params, s["seed"])
                self._keep_sample(prio[enter], s["index"][enter], valid, sig)

    # ----------------------------------------------------------------- figures
    def token_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(token key, count) of the tokens the frequent-items table holds."""
        return self.freq.keys, self.freq.counts

    @property
    def sampled(self) -> bool:
        """True when the token figures are estimated from a hash sample of the vocabulary."""
        return isinstance(self.freq, VocabularySample) and not self.freq.exact

    def entropy_bits(self, candidates: np.ndarray | None = None) -> float:
        """Unigram token entropy in bits, from the frequent-items table plus its residual, or from
        the vocabulary sample: ``candidates`` (likely frequent types, e.g. the corpus's top tokens)
        that hold at least 1/``HEAVY`` of the tokens count on their own, every other sampled type
        stands for 1/share of the types."""
        N = self.freq.total
        if N == 0:
            return 0.0
        if isinstance(self.freq, VocabularySample):
            return self._sampled_entropy(N, candidates)
        c = self.freq.corrected()
        c = c[c > 0].astype(np.float64)
        p = c / N
        h = float(-(p * np.log2(p)).sum())
        rest = N - c.sum()
        if rest > 0:      # dropped rare types: assume their mass is spread evenly over the types left
            n_rest = max(self.hll[0].count() - len(c), 1.0)
            q = rest / N
            h += q * math.log2(n_rest / q)
        return h

    def _sampled_entropy(self, N: int, candidates: np.ndarray | None) -> float:
        assert isinstance(self.freq, VocabularySample)
        keys, counts, share = self.freq.sample()
        h, rest = 0.0, counts > 0
        if share < 1.0 and candidates is not None and len(candidates):
            cand = np.unique(np.asarray(candidates, dtype=np.uint64))
            est = self.freq.estimate(cand)
            heavy = est >= max(N / HEAVY, 1.0)
            p = est[heavy].astype(np.float64) / N
            h = float(-(p * np.log2(p)).sum())
            rest &= ~np.isin(keys, cand[heavy])
        p = counts[rest].astype(np.float64) / N
        return h + float(-(p * np.log2(p)).sum() / share)

    def tail_mass(self) -> float:
        """Share of token occurrences in rare tokens (each under ``tail_cut`` of all occurrences)."""
        N = self.freq.total
        if N == 0:
            return 0.0
        if isinstance(self.freq, VocabularySample):
            _, counts, share = self.freq.sample()
            tail = counts[counts < self.params.tail_cut * N].sum()
            return float(min(tail / share / N, 1.0))
        c = self.freq.corrected()
        head = c[c >= self.params.tail_cut * N].sum()
        return float(1.0 - head / N)

    def self_similarity(self) -> tuple[float, int]:
        """(mean pairwise MinHash similarity of the sample, sampled records used)."""
        sig = self.sample_sig[self.sample_valid]
        k = len(sig)
        if k < 2:
            return float("nan"), k
        # equal pairs per MinHash position: sum over its distinct values of C(count, 2) - the same
        # integer as comparing all k x k pairs, in O(k log k) instead of O(k^2) per position
        srt = np.sort(sig, axis=0)
        starts = np.ones(srt.shape, dtype=bool)
        starts[1:] = srt[1:] != srt[:-1]
        run_id = np.cumsum(starts.T.ravel()) - 1                # runs of equal values, column by column
        counts = np.bincount(run_id).astype(np.int64)
        total = int((counts * (counts - 1) // 2).sum())
        return float(total / (sig.shape[1] * k * (k - 1) / 2.0)), k

    def length_quantile(self, q: float) -> float:
        """Record length at quantile ``q``, read from the length histogram."""
        n = self.length_hist.sum()
        if n == 0:
            return 0.0
        cum = np.cumsum(self.length_hist)
        b = int(np.searchsorted(cum, q * n))
        edges = length_edges()
        return float(edges[min(b, len(edges) - 1)])

    def figures(self, candidates: np.ndarray | None = None) -> dict[str, float]:
        """Every diversity figure by name, as the check and a profile report them (``candidates``:
        see ``entropy_bits``)."""
        n = self.records
        N = self.freq.total
        out: dict[str, float] = {"records": float(n), "tokens": float(N)}
        out["token_entropy"] = self.entropy_bits(candidates)
        types = self.hll[0].count() if N else 0.0
        if len(self.freq) and self.freq.error == 0 and not self.sampled:
            types = float(len(self.freq))         # table never overflowed: exact
        out["types"] = types
        for k in range(N_MAX):
            total = int(self.ngrams[k])
            distinct = self.hll[k].count() if total else 0.0
            if k == 0:
                distinct = types
            out[f"distinct_{k + 1}"] = float(min(distinct / total, 1.0)) if total else 0.0
        out["tail_mass"] = self.tail_mass()
        mean = self.length_sum / n if n else 0.0
        var = max(self.length_sq / n - mean * mean, 0.0) if n else 0.0
        out["length_mean"] = mean
        out["length_std"] = math.sqrt(var)
        out["length_p10"] = self.length_quantile(0.10)
        out["length_p50"] = self.length_quantile(0.50)
        out["length_p90"] = self.length_quantile(0.90)
        out["empty_fraction"] = self.empty / n if n else 0.0
        if self.params.sample:
            sim, k = self.self_similarity()
            out["self_similarity"] = 0.0 if math.isnan(sim) else sim     # < 2 sampled records: no pairs
        return out

    def errors(self) -> dict[str, float | str]:
        """Stated error of the sketched figures (for reports and docs)."""
        N = self.freq.total
        return {
            "distinct_rel_std_error": self.hll[0].std_error,
            "types_exact": bool(self.freq.error == 0 and not self.sampled),
            "token_figures": "estimated from a hash sample of the vocabulary" if self.sampled else (
                "exact" if self.freq.error == 0 else "Misra-Gries heavy hitters, counts within token_count_max_error"),
            "token_count_max_error": int(self.freq.error),
            "token_count_max_error_share": (self.freq.error / N) if N else 0.0,
            "self_similarity_sample": int(self.sample_valid.sum()),
        }
