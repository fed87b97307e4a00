"""A speech-like test signal for Chromium's fake microphone (`--use-file-for-fake-audio-capture`).

Chromium's default fake microphone plays a short beep once a second and silence between, so Opus
codes mostly silence: its voice activity flag is off, it adds no in-band FEC, and a lost packet of
silence costs nothing audible. A visit is a conversation, so the audio scenarios talk: a voiced
source (harmonics of a pitch that wanders like intonation) shaped by two formants that move from
syllable to syllable, four syllables a second, a breath pause every few seconds, and a little noise
for the consonants. It is synthetic (no recording, nothing to license) and the same every run.
"""

import array
import math
import random
import wave

RATE = 48_000


def write_speech_wav(path, seconds=12.0, seed=5):
    """Writes `seconds` of 16-bit mono speech-like audio at 48 kHz to `path` (Chromium loops it)."""
    rng = random.Random(seed)
    samples = array.array("h")
    syllable_s = 0.25
    syllables = int(seconds / syllable_s)
    # Formant targets (F1, F2 in Hz) of a few vowels; each syllable takes one.
    vowels = [(730, 1090), (270, 2290), (530, 1840), (570, 840), (300, 870), (660, 1720)]
    phases = [0.0] * 16
    t = 0.0
    for s in range(syllables):
        f1, f2 = rng.choice(vowels)
        pause = s % 11 == 10  # a breath every 2.75 s
        n = int(syllable_s * RATE)
        for i in range(n):
            x = i / n
            envelope = 0.0 if pause else math.sin(math.pi * x) ** 0.6
            f0 = 125.0 + 25.0 * math.sin(2 * math.pi * 0.6 * t)
            value = 0.0
            if envelope > 0.0:
                for k in range(1, 17):
                    fk = k * f0
                    phases[k - 1] += 2 * math.pi * fk / RATE
                    gain = 1.0 / (1.0 + ((fk - f1) / 90.0) ** 2) + 0.6 / (1.0 + ((fk - f2) / 120.0) ** 2)
                    value += gain * math.sin(phases[k - 1]) / k ** 0.5
                value = value * envelope + (rng.random() - 0.5) * 0.05 * envelope
            samples.append(int(max(-1.0, min(1.0, value * 0.35)) * 32767))
            t += 1.0 / RATE
    with wave.open(path, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
