"""hf:PATH and lm:PATH end to end with tiny random models built in a temp dir (no network)."""

import json

import numpy as np
import pytest

from collapse_audit.detectors import load_detector
from collapse_audit.errors import AuditError

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

WORDS = [
    "the", "a", "of", "and", "to", "in", "is", "it", "that", "was", "for", "on", "are", "with", "as", "be",
    "this", "by", "at", "from", "text", "model", "human",
]
TEXTS = ["the model is human text", "a text of the human and the model", "", "this is it " * 200]


def _tokenizer(d):
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS + list("abcdefghijklmnopqrstuvwxyz.,!?")
    (d / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tok = transformers.BertTokenizer(str(d / "vocab.txt"))
    tok.save_pretrained(str(d))
    return len(vocab)


@pytest.fixture(scope="module")
def hf_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("hf")
    n = _tokenizer(d)
    torch.manual_seed(0)
    cfg = transformers.BertConfig(vocab_size=n, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=32, max_position_embeddings=64, num_labels=2,
                                  id2label={0: "human", 1: "machine"}, label2id={"human": 0, "machine": 1})
    transformers.BertForSequenceClassification(cfg).save_pretrained(str(d))
    return d


@pytest.fixture(scope="module")
def lm_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("lm")
    n = _tokenizer(d)
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(vocab_size=n, n_embd=16, n_layer=1, n_head=2, n_positions=64)
    transformers.GPT2LMHeadModel(cfg).save_pretrained(str(d))
    return d


def test_hf_detector_scores(hf_dir):
    det = load_detector(f"hf:{hf_dir}")  # label "machine" found by name
    s = det.score(TEXTS)
    assert s.shape == (4,) and s.dtype == np.float64 and np.all((s >= 0) & (s <= 1))
    assert det.name == f"hf:{hf_dir}"
    assert det.validation["n_pos"] == 0  # unvalidated unless the policy states rates
    # choosing the other label flips the probability
    other = load_detector(f"hf:{hf_dir}", {"synthetic_label": "human"}).score(TEXTS)
    np.testing.assert_allclose(s + other, 1.0, atol=1e-6)
    idx = load_detector(f"hf:{hf_dir}", {"synthetic_label": 1}).score(TEXTS)
    np.testing.assert_allclose(idx, s, atol=1e-6)


def test_hf_label_errors(hf_dir, tmp_path):
    with pytest.raises(AuditError, match="synthetic_label"):
        load_detector(f"hf:{hf_dir}", {"synthetic_label": "nope"})
    # default LABEL_0/LABEL_1 names: the policy must say which one
    n = _tokenizer(tmp_path)
    cfg = transformers.BertConfig(vocab_size=n, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=32, max_position_embeddings=64, num_labels=2)
    transformers.BertForSequenceClassification(cfg).save_pretrained(str(tmp_path))
    with pytest.raises(AuditError, match="synthetic_label"):
        load_detector(f"hf:{tmp_path}")
    det = load_detector(f"hf:{tmp_path}", {"synthetic_label": "LABEL_1", "threshold": 0.3,
                                           "tpr": 0.9, "fpr": 0.1, "n_pos": 100, "n_neg": 100})
    assert det.threshold == 0.3 and det.validation["tpr"] == 0.9
    assert det.score(["the text"]).shape == (1,)


@pytest.mark.parametrize("method", ["fast-detectgpt", "log-rank"])
def test_lm_detector(lm_dir, method):
    det = load_detector(f"lm:{lm_dir}", {"method": method})
    s = det.score(TEXTS)
    assert s.shape == (4,) and np.all((s >= 0) & (s <= 1))
    c = det.criterion(TEXTS)
    assert np.isfinite(c[0]) and np.isfinite(c[3])
    assert method in det.version


def test_lm_bad_method(lm_dir):
    with pytest.raises(AuditError, match="method"):
        load_detector(f"lm:{lm_dir}", {"method": "vibes"})


def test_not_a_model_dir(tmp_path):
    with pytest.raises(AuditError, match="config.json"):
        load_detector(f"hf:{tmp_path}")


def test_cli_score_with_hf(hf_dir, tmp_path):
    pa = pytest.importorskip("pyarrow.parquet")
    from typer.testing import CliRunner

    from collapse_audit.cli.detector import app
    f = tmp_path / "in.jsonl"
    f.write_text("".join(json.dumps({"text": t, "label": "synthetic" if i % 2 else "human"}) + "\n"
                         for i, t in enumerate(TEXTS)))
    out = tmp_path / "s.parquet"
    r = CliRunner().invoke(app, ["score", str(f), "-o", str(out), "--detector", f"hf:{hf_dir}"])
    assert r.exit_code == 0, r.output
    t = pa.read_table(out)
    assert t.num_rows == 4 and t.column("synthetic_score").to_pylist() == pytest.approx(
        list(load_detector(f"hf:{hf_dir}").score(TEXTS)), abs=1e-6)


def test_cli_eval_with_lm(lm_dir, tmp_path):
    from typer.testing import CliRunner

    from collapse_audit.cli.detector import app
    f = tmp_path / "in.jsonl"
    f.write_text("".join(json.dumps({"text": t, "label": "synthetic" if i % 2 else "human", "g": i % 2})
                         + "\n" for i, t in enumerate(TEXTS)))
    r = CliRunner().invoke(app, ["eval", str(f), "--detector", f"lm:{lm_dir}", "-f", "json",
                                 "--group-field", "g", "-O", "method=log-rank"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["detector"]["name"] == f"lm:{lm_dir}" and "groups" in res


def test_device_auto_and_cpu_give_the_same_scores(hf_dir, lm_dir):
    auto = load_detector(f"hf:{hf_dir}", {"device": "auto"})
    cpu = load_detector(f"hf:{hf_dir}", {"device": "cpu"})
    assert cpu.device == "cpu"
    assert auto.device == ("cuda" if torch.cuda.is_available() else auto.device)
    np.testing.assert_allclose(auto.score(TEXTS), cpu.score(TEXTS), atol=1e-4)
    lm = load_detector(f"lm:{lm_dir}", {"device": "cpu"})
    assert lm.device == "cpu" and np.all(np.isfinite(lm.score(TEXTS)))


def test_unavailable_or_unknown_device_is_a_clear_error(hf_dir):
    with pytest.raises(AuditError, match="Unknown device"):
        load_detector(f"hf:{hf_dir}", {"device": "tpu"})
    if not torch.cuda.is_available():
        with pytest.raises(AuditError, match="no CUDA GPU"):
            load_detector(f"hf:{hf_dir}", {"device": "cuda"})
