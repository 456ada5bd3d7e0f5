"""Build REAL .argosmodel packages with random weights, for tests and benchmarks.

Follows the recipe in /work/shared/notes/argos.md: a SentencePiece model trained
in memory on template sentences (so tokens look like German / Chinese / English
news), a CTranslate2 Transformer with random weights, int8, a metadata.json, all
zipped under ONE top-level folder exactly like the packages on the Argos index.

The output is gibberish but deterministic for a seed: the same arguments give a
byte-identical model.bin (and zip), across runs and thread settings.

``size="tiny"``: 2+2 layers, d_model 64, 4 heads, FFN 128, 600 pieces (~0.07 s).
``size="base"``: transformer-base (6+6 layers, d_model 512, 8 heads, FFN 2048)
with 32,000 pieces, for benchmarks (~3 s, ~95 MB zip). Its vocabulary is
padded with synthetic ``qx...`` pieces (user-defined symbols that never occur in
real text, so they never change how text is tokenised). On its own template text
it cuts ~1.1 pieces a word; on other text, pass ``extra_lines`` (see build_package).

SentencePiece is trained as BPE: on a few hundred lines, unigram training stops
at ~300 pieces and splits even "Die" into "▁D ie"; BPE gives whole words.

Output length: see ``_add_length_ramp`` -- with the default ``eos_bias`` both
sizes stop after ~30 tokens for any seed and input. Benchmarks should still cap
``max_decoding_length`` the same for every contender.
"""

from __future__ import annotations

import io
import itertools
import json
import random
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import sentencepiece as spm
from ctranslate2.specs import TransformerSpec
from ctranslate2.specs.model_spec import OPTIONAL, visit_spec

_NAMES = {"de": "German", "en": "English", "zh": "Chinese", "zt": "Chinese (traditional)"}

_SIZES = {
    # layers (enc, dec), heads, d_model, ffn, vocabulary size, </s> ramp gain (see below)
    "tiny": ((2, 2), 4, 64, 128, 600, 8.0),
    "base": ((6, 6), 8, 512, 2048, 32000, 32.0),
}

_DE = {
    "subj": [
        "Die Bundesregierung",
        "Der Bundestag",
        "Die Kanzlerin",
        "Der Finanzminister",
        "Die Polizei in Hamburg",
        "Das Verfassungsgericht",
        "Die Stadt München",
        "Der Verband",
        "Die Europäische Zentralbank",
        "Die Opposition",
        "Der Bürgermeister von Köln",
        "Die Gewerkschaft",
        "Dr. Müller",
        "Prof. Schneider",
        "Die Deutsche Bahn",
    ],
    "verb": [
        "kündigte",
        "beschloss",
        "kritisierte",
        "meldete",
        "plante",
        "verschob",
        "prüfte",
        "lehnte",
        "begrüßte",
        "forderte",
        "stellte",
        "verteidigte",
    ],
    "obj": [
        "neue Regeln für den Wohnungsbau",
        "eine Reform der Rente",
        "höhere Zinsen",
        "den Haushalt für das kommende Jahr",
        "Gespräche mit China",
        "die Energiewende",
        "Hilfen für kleine Unternehmen",
        "strengere Kontrollen an der Grenze",
        "einen Streik im Nahverkehr",
        "Investitionen in Schulen",
    ],
    "month": [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    "tail": ["an.", "vor.", "ab.", "mit.", "fest."],
}
_EN = {
    "subj": [
        "The federal government",
        "Parliament",
        "The chancellor",
        "The finance minister",
        "Police in Hamburg",
        "The constitutional court",
        "The city of Munich",
        "The union",
        "The European Central Bank",
        "The opposition",
        "The mayor of Cologne",
        "The ministry",
        "Dr. Miller",
        "Professor Schneider",
        "The national railway",
    ],
    "verb": [
        "announced",
        "approved",
        "criticised",
        "reported",
        "planned",
        "postponed",
        "reviewed",
        "rejected",
        "welcomed",
        "demanded",
        "presented",
        "defended",
    ],
    "obj": [
        "new rules for housing",
        "a pension reform",
        "higher interest rates",
        "the budget for next year",
        "talks with China",
        "the energy transition",
        "aid for small businesses",
        "stricter border controls",
        "a transport strike",
        "investment in schools",
    ],
    "month": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}
_ZH = {
    "subj": [
        "国务院",
        "外交部",
        "北京市政府",
        "警方",
        "最高人民法院",
        "中国人民银行",
        "上海市",
        "发言人",
        "国家统计局",
        "工会",
        "教育部",
        "记者",
    ],
    "verb": ["宣布", "批评", "决定", "报告", "推迟", "审查", "拒绝", "欢迎", "要求", "提出"],
    "obj": [
        "新的住房政策",
        "养老金改革",
        "提高利率",
        "明年的预算",
        "与德国的贸易谈判",
        "能源转型",
        "对小企业的援助",
        "更严格的边境管制",
        "交通罢工",
        "学校投资计划",
    ],
    "tail": ["。", "！", "？", "；"],
}


def _source_lines(lang: str, rng: random.Random, n: int) -> list[str]:
    lines = []
    for i in range(n):
        if lang == "de":
            d = _DE
            lines.append(
                f"{rng.choice(d['subj'])} {rng.choice(d['verb'])} am {i % 28 + 1}. "
                f"{rng.choice(d['month'])} {2020 + i % 7} {rng.choice(d['obj'])} "
                f"{rng.choice(d['tail'])}"
            )
        elif lang in ("zh", "zt"):
            d = _ZH
            lines.append(
                f"{rng.choice(d['subj'])}{i % 12 + 1}月{i % 28 + 1}日{rng.choice(d['verb'])}了"
                f"{rng.choice(d['obj'])}，“{rng.choice(d['obj'])}”{rng.choice(d['tail'])}"
            )
        else:
            lines.extend(_english_lines(rng, 1))
    return lines


def _english_lines(rng: random.Random, n: int) -> list[str]:
    d = _EN
    return [
        f"On {rng.choice(d['month'])} {i % 28 + 1}, {2020 + i % 7}, {rng.choice(d['subj'])} "
        f"{rng.choice(d['verb'])} {rng.choice(d['obj'])}, officials said."
        for i in range(n)
    ]


def _pad_symbols(count: int) -> list[str]:
    # "qx" never occurs in German, English or Chinese news, so these user-defined
    # symbols never change how real text is tokenised.
    letters = "abcdefghijklmnoprstuvwy"
    out = []
    for length in itertools.count(2):
        for combo in itertools.product(letters, repeat=length):
            out.append("qx" + "".join(combo))
            if len(out) == count:
                return out
    return out  # pragma: no cover


def _train_sentencepiece(lines: list[str], vocab_size: int, pad_to: int) -> bytes:
    buf = io.BytesIO()
    kwargs = {}
    if pad_to:
        kwargs["user_defined_symbols"] = _pad_symbols(pad_to)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=buf,
        vocab_size=vocab_size + pad_to,
        hard_vocab_limit=False,
        model_type="bpe",
        character_coverage=1.0,
        num_threads=1,
        minloglevel=2,
        **kwargs,
    )
    return buf.getvalue()


def _fill_weights(
    spec: TransformerSpec,
    d_model: int,
    ffn: int,
    vocab: int,
    gain: float,
    eos_bias: float,
    eos_id: int,
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)

    def out_dim(scope: str) -> int:
        if scope.endswith("self_attention/linear_0"):
            return 3 * d_model  # fused QKV
        if scope.endswith("/attention/linear_1"):
            return 2 * d_model  # cross-attention fused KV
        if scope.endswith("ffn/linear_0"):
            return ffn
        if scope.endswith("projection"):
            return vocab
        return d_model

    def in_dim(scope: str) -> int:
        return ffn if scope.endswith("ffn/linear_1") else d_model

    def fill(layer, name: str, value) -> None:
        scope, _, attr = name.rpartition("/")
        if attr == "weight" and value is None:
            if "embeddings" in scope:
                shape = (vocab, d_model)
            else:
                shape = (out_dim(scope), in_dim(scope))
            w = rng.standard_normal(shape, dtype=np.float32) / np.sqrt(shape[1])
            setattr(layer, attr, w.astype(np.float32))
        elif attr == "gamma" and value is None:
            setattr(layer, attr, np.ones(d_model, dtype=np.float32))
        elif attr == "beta" and value is None:
            setattr(layer, attr, np.zeros(d_model, dtype=np.float32))
        elif attr == "bias" and isinstance(value, str) and value == OPTIONAL:
            if "linear" in scope or scope.endswith("projection"):
                bias = np.zeros(out_dim(scope), dtype=np.float32)
                setattr(layer, attr, bias)

    visit_spec(spec, fill)
    _add_length_ramp(spec, d_model, gain, eos_bias, eos_id)


# Decoding stops at a predictable length. A random model settles into loops
# ("b b b ...") in which its state hardly changes, so a constant </s> bias either
# never wins or always wins at once (the switch is sharp and depends on the seed).
# Instead the </s> logit reads ONLY a slow sinusoid of the decoder position that no
# token embedding and no block writes to, so it rises with every step whatever
# the model emits: with eos_bias 0.5 it stops after ~30 tokens (29-38 measured over
# seeds 0-3, de and zh, short and long inputs; the gain per size was measured).
# A larger eos_bias stops earlier, a smaller one later.
_RAMP_FREQUENCY = 0.038  # radians per position: sin - cos rises over ~60 positions


def _add_length_ramp(
    spec: TransformerSpec, d_model: int, gain: float, eos_bias: float, eos_id: int
) -> None:
    half = d_model // 2
    # CTranslate2's sinusoidal encoding: [sin | cos], timescale_j = exp(-j ln(1e4)/(half-1)).
    j = round(np.log(1 / _RAMP_FREQUENCY) / (np.log(10000.0) / (half - 1)))
    dims = [j, half + j]
    decoder = spec.decoder
    decoder.embeddings.weight[:, dims] = 0.0
    for layer in decoder.layer:
        layer.self_attention.linear[1].weight[dims, :] = 0.0
        layer.attention.linear[2].weight[dims, :] = 0.0
        layer.ffn.linear_1.weight[dims, :] = 0.0
    row = np.zeros(d_model, dtype=np.float32)
    row[j], row[half + j] = gain, -gain
    decoder.projection.weight[eos_id] = row
    decoder.projection.bias[eos_id] = eos_bias


def build_model_dir(
    model_dir: Path, sp_model: bytes, *, size: str, eos_bias: float, seed: int
) -> None:
    """Write a CTranslate2 model (int8) whose vocabulary is the SentencePiece one."""
    layers, heads, d_model, ffn, _, gain = _SIZES[size]
    sp = spm.SentencePieceProcessor(model_proto=sp_model)
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    spec = TransformerSpec.from_config(layers, heads)
    _fill_weights(spec, d_model, ffn, len(pieces), gain, eos_bias, sp.eos_id(), seed)
    spec.register_source_vocabulary(pieces)
    spec.register_target_vocabulary(pieces)
    spec.validate()
    spec.optimize(quantization="int8")
    model_dir.mkdir(parents=True, exist_ok=True)
    spec.save(str(model_dir))


def build_package(
    out_dir: Path,
    from_code: str,
    to_code: str = "en",
    *,
    size: str = "tiny",
    eos_bias: float = 0.5,
    seed: int = 0,
    version: str = "1.0",
    target_prefix: str = "",
    extra_lines: Sequence[str] = (),
    learned_pieces: int = 1000,
) -> Path:
    """Build ``translate-<from>_<to>-<version>.argosmodel`` in ``out_dir``; return its path.

    Deterministic: the same arguments give a byte-identical file. ``eos_bias`` is
    added to the ``</s>`` logit (0.5: ~30 output tokens; larger stops earlier).
    A different ``seed`` gives a different model.bin (so a different model_version).

    ``target_prefix`` (optional) is written to metadata.json; it must be a piece of
    the vocabulary for the model to accept it (e.g. ``"▁"``).

    ``extra_lines`` are added to SentencePiece's training text and ``learned_pieces``
    (base only) is how many pieces it learns, the rest of the 32,000 being padding:
    a benchmark passes text like its own so its sentences are cut like a real model
    cuts news (~1.3 pieces a word), not into the ~3 a word of a tokenizer that never
    saw their words.
    """
    if size not in _SIZES:
        raise ValueError(f"size must be one of {sorted(_SIZES)}, not {size!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    lines = _source_lines(from_code, rng, 300) + _english_lines(rng, 300) + list(extra_lines)
    vocab_size = _SIZES[size][4]
    pad_to = 0
    if size == "base":
        pad_to = vocab_size - learned_pieces  # the rest are synthetic pieces
        vocab_size = learned_pieces
    sp_model = _train_sentencepiece(lines, vocab_size, pad_to)

    folder_name = f"translate-{from_code}_{to_code}-{version.replace('.', '_')}"
    metadata = {
        "package_version": version,
        "argos_version": "1.9.0",
        "from_code": from_code,
        "from_name": _NAMES.get(from_code, from_code),
        "to_code": to_code,
        "to_name": _NAMES.get(to_code, to_code),
        "type": "translate",
        "links": [],
    }
    if target_prefix:
        metadata["target_prefix"] = target_prefix

    with tempfile.TemporaryDirectory(prefix="tiny-package-") as tmp:
        root = Path(tmp) / folder_name
        build_model_dir(root / "model", sp_model, size=size, eos_bias=eos_bias, seed=seed)
        (root / "sentencepiece.model").write_bytes(sp_model)
        (root / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
        (root / "README.md").write_text(
            f"Random-weight test package {from_code}->{to_code} (seed {seed}).\n",
            encoding="utf-8",
        )
        target = out_dir / f"{folder_name}.argosmodel"
        write_zip(root, target)
    return target


def write_zip(root: Path, target: Path, *, arc_root: str | None = None) -> None:
    """Zip folder ``root`` under one top-level folder, reproducibly (fixed timestamps)."""
    arc_root = root.name if arc_root is None else arc_root
    tmp = target.with_name(target.name + ".part")
    # model.bin is already small/int8; ZIP_STORED keeps building fast.
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root).as_posix()
            name = f"{arc_root}/{rel}" if arc_root else rel
            if path.is_dir():
                info = zipfile.ZipInfo(name + "/", date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = 0o40755 << 16
                zf.writestr(info, b"")
            else:
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                with path.open("rb") as fh:
                    zf.writestr(info, fh.read())
    shutil.move(tmp, target)
