# What the log-mel front end itself tells of a synth-data set's labels: small probes on fixed
# features, no tower. If a probe reads a label that the tagged tower does not, the tower's
# learning is what falls short, not what it is given to hear.
#   /usr/bin/python3 bench/probe-logmel.py DATA_DIR [N_FFT,...]   (Debian's python3-torch; prints JSON)
# Features per piece clip: the time-mean and time-std of Whisper's log-mel (80 Slaney bins, hop
# 160, n_fft 400 as MuFun's front end, or larger), and the autocorrelation of its spectral flux
# over lags 0-2 s. Probes: logistic regression or a 1-hidden-layer MLP, trained on train clips,
# best accuracy over training on val+test clips.
import json, sys, time, wave
import numpy as np
import torch

torch.set_num_threads(2)
DATA = sys.argv[1]
N_FFTS = [int(a) for a in (sys.argv[2] if len(sys.argv) > 2 else '400').split(',')]


def load(path):
    w = wave.open(path)
    assert w.getframerate() == 16000 and w.getsampwidth() == 2, path
    x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    return x.reshape(-1, w.getnchannels()).mean(1)


def hz_to_mel(f):
    f = np.asarray(f, float)
    return np.where(f >= 1000, 15 + np.log(np.maximum(f, 1e-10) / 1000) * 27 / np.log(6.4), 3 * f / 200)


def mel_to_hz(m):
    m = np.asarray(m, float)
    return np.where(m >= 15, 1000 * np.exp(np.log(6.4) / 27 * (m - 15)), 200 * m / 3)


def mel_filters(n_fft, n_mels=80):
    freqs = np.linspace(0, 8000, n_fft // 2 + 1)
    pts = mel_to_hz(np.linspace(hz_to_mel(0), hz_to_mel(8000), n_mels + 2))
    w = np.zeros((n_mels, len(freqs)))
    for m in range(n_mels):
        rise = (freqs - pts[m]) / (pts[m + 1] - pts[m])
        fall = (pts[m + 2] - freqs) / (pts[m + 2] - pts[m + 1])
        w[m] = np.maximum(0, np.minimum(rise, fall)) * 2 / (pts[m + 2] - pts[m])
    return w


def log_mel(x, n_fft):
    xp = np.pad(x, n_fft // 2, mode='reflect')
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    frames = 1 + (len(xp) - n_fft) // 160
    idx = np.arange(n_fft)[None, :] + 160 * np.arange(frames)[:, None]
    power = np.abs(np.fft.rfft(xp[idx] * window, axis=1)) ** 2
    m = np.log10(np.maximum(power @ mel_filters(n_fft).T, 1e-10))
    return (np.maximum(m, m.max() - 8) + 4) / 4  # [frames, mels]


def features(m):
    flux = np.maximum(0, np.diff(m, axis=0)).sum(1)
    flux = flux - flux.mean()
    ac = np.correlate(flux, flux, 'full')[len(flux) - 1:len(flux) - 1 + 200]
    return {'mean': m.mean(0), 'std': m.std(0), 'flux_autocorrelation': ac / (ac[0] + 1e-9)}


def probe(clips, feats, task, classes, which, hidden=0):
    train = [c for c in clips if c['split'] == 'train']
    held = [c for c in clips if c['split'] != 'train']
    stack = lambda cs: torch.tensor(np.stack([np.concatenate([feats[c['id']][w] for w in which]) for c in cs]), dtype=torch.float32)
    xt, xh = stack(train), stack(held)
    mu, sd = xt.mean(0), xt.std(0) + 1e-6
    xt, xh = (xt - mu) / sd, (xh - mu) / sd
    yt = torch.tensor([classes.index(c[task]) for c in train])
    yh = torch.tensor([classes.index(c[task]) for c in held])
    torch.manual_seed(0)
    net = torch.nn.Linear(xt.shape[1], len(classes)) if not hidden else torch.nn.Sequential(
        torch.nn.Linear(xt.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, len(classes)))
    opt = torch.optim.AdamW(net.parameters(), 1e-2, weight_decay=1e-2)
    best = 0.0
    for epoch in range(300):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(xt), yt).backward()
        opt.step()
        if epoch % 20 == 19:
            with torch.no_grad():
                best = max(best, (net(xh).argmax(1) == yh).float().mean().item())
    return round(best, 3)


t0 = time.time()
clips = [c for c in (json.loads(l) for l in open(f'{DATA}/labels.jsonl') if l.strip()) if c['kind'] == 'piece']
keys = sorted({c['key'] for c in clips})
out = {'bench': 'log-mel probes', 'data': DATA, 'piece_clips': {s: sum(c['split'] == s for c in clips) for s in ('train', 'val', 'test')}, 'accuracy': {}}
for n_fft in N_FFTS:
    feats = {c['id']: features(log_mel(load(f"{DATA}/audio/{c['audio']}"), n_fft)) for c in clips}
    out['accuracy'][f'n_fft {n_fft}'] = {
        'key, linear on mean log-mel': probe(clips, feats, 'key', keys, ['mean']),
        'mode, linear on mean log-mel': probe(clips, feats, 'mode', ['major', 'minor'], ['mean']),
        'mode, MLP on mean and std': probe(clips, feats, 'mode', ['major', 'minor'], ['mean', 'std'], 256),
        'tempo, linear on flux autocorrelation': probe(clips, feats, 'tempoClass', ['slow', 'medium', 'fast'], ['flux_autocorrelation']),
        'tempo, MLP on flux autocorrelation': probe(clips, feats, 'tempoClass', ['slow', 'medium', 'fast'], ['flux_autocorrelation'], 128),
        'meter, MLP on flux autocorrelation': probe(clips, feats, 'meter', ['3/4', '4/4', '6/8'], ['flux_autocorrelation'], 128),
    }
out['chance'] = {'key': round(1 / len(keys), 3), 'mode': 0.5, 'tempo': 0.333, 'meter': 0.333}
out['seconds'] = round(time.time() - t0)
print(json.dumps(out, indent=1))
