// Whisper's log-mel spectrogram in WebAssembly SIMD: four frames per vector lane group, a real
// FFT of 400 points as a complex FFT of 200 (Stockham, radices 5·5·4·2) plus the split step,
// power, the sparse mel filterbank and a vector log. The numbers come from TypeScript (mel.ts):
// window, twiddles and filters arrive as float32 tables, so this file needs no libm.
// Build: bash src/model/audio/wasm/build.sh (clang 16 + wasm-ld); the .wasm is committed.
#include <wasm_simd128.h>

#define N_FFT 400
#define HOP 160
#define NC 200 // complex FFT length: x[2n] + i·x[2n+1]
#define NBIN 201

typedef v128_t V;

// Tables from the host (mel.ts), copied in by set_tables: the window, the FFT twiddles, and the
// mel filters as bands (filter m covers bins band[2m] … band[2m] + band[2m+1] − 1) whose weights
// are kept pre-splatted (one vector per weight, so the filter loop only loads).
#define MAX_MELS 256
#define MAX_WEIGHTS (2 * NBIN + MAX_MELS)

static float window_[N_FFT];
static float twiddle[2 * NC]; // cos, −sin of 2πj/NC, j < NC (FFT stages)
static float split_[2 * NBIN]; // cos, −sin of 2πk/400, k ≤ 200 (real-FFT split)
static int band[2 * MAX_MELS];
static V weightv[MAX_WEIGHTS];
static int nMels_;

// Returns 0, or −1 when the filters do not fit the static tables.
int set_tables(const float *window, const float *tw, const float *sp, const int *bands, const float *weights, int nMels) {
  int total = 0;
  for (int m = 0; m < nMels; m++) total += bands[2 * m + 1];
  if (nMels > MAX_MELS || total > MAX_WEIGHTS) return -1;
  for (int i = 0; i < N_FFT; i++) window_[i] = window[i];
  for (int i = 0; i < 2 * NC; i++) twiddle[i] = tw[i];
  for (int i = 0; i < 2 * NBIN; i++) split_[i] = sp[i];
  for (int i = 0; i < 2 * nMels; i++) band[i] = bands[i];
  for (int i = 0; i < total; i++) weightv[i] = wasm_f32x4_splat(weights[i]);
  nMels_ = nMels;
  return 0;
}

static inline V cmul_re(V ar, V ai, V br, V bi) { return wasm_f32x4_sub(wasm_f32x4_mul(ar, br), wasm_f32x4_mul(ai, bi)); }
static inline V cmul_im(V ar, V ai, V br, V bi) { return wasm_f32x4_add(wasm_f32x4_mul(ar, bi), wasm_f32x4_mul(ai, br)); }

// One Stockham stage (decimation in frequency) of radix P on length n with stride s, m = n/P:
//   y[q + s(P·p + u)] = W_n^{p·u} · Σ_r x[q + s(p + r·m)] · ω_P^{r·u},  p < m, q < s
// with W_n^j = twiddle[(j·NC/n) mod NC]. Radix 5 uses the 5-point butterfly's symmetries:
// t1 = a1 + a4, t2 = a2 + a3, t3 = a1 − a4, t4 = a2 − a3; y1,4 = a0 + c1·t1 + c2·t2 ∓ i(s1·t3 + s2·t4),
// y2,3 = a0 + c2·t1 + c1·t2 ∓ i(s2·t3 − s1·t4), with c_k = cos(2πk/5), s_k = sin(2πk/5).
static void stage5(int n, int s, const V *xr, const V *xi, V *yr, V *yi) {
  const int m = n / 5, step = NC / n;
  const V c1 = wasm_f32x4_splat(0.30901699437494742f), c2 = wasm_f32x4_splat(-0.80901699437494742f);
  const V s1 = wasm_f32x4_splat(0.95105651629515357f), s2 = wasm_f32x4_splat(0.58778525229247313f);
  for (int p = 0; p < m; p++) {
    V wr[5], wi[5];
    for (int u = 1; u < 5; u++) { const int j = ((p * u) % n) * step; wr[u] = wasm_f32x4_splat(twiddle[2 * j]); wi[u] = wasm_f32x4_splat(twiddle[2 * j + 1]); }
    for (int q = 0; q < s; q++) {
      V ar[5], ai[5];
      for (int r = 0; r < 5; r++) { ar[r] = xr[q + s * (p + r * m)]; ai[r] = xi[q + s * (p + r * m)]; }
      const V t1r = wasm_f32x4_add(ar[1], ar[4]), t1i = wasm_f32x4_add(ai[1], ai[4]);
      const V t2r = wasm_f32x4_add(ar[2], ar[3]), t2i = wasm_f32x4_add(ai[2], ai[3]);
      const V t3r = wasm_f32x4_sub(ar[1], ar[4]), t3i = wasm_f32x4_sub(ai[1], ai[4]);
      const V t4r = wasm_f32x4_sub(ar[2], ar[3]), t4i = wasm_f32x4_sub(ai[2], ai[3]);
      // B = a0 + c·t1 + c'·t2 (real coefficients), S = the sine part; y = B ∓ i·S, and −i·S = S.im − i·S.re
      const V b1r = wasm_f32x4_add(ar[0], wasm_f32x4_add(wasm_f32x4_mul(c1, t1r), wasm_f32x4_mul(c2, t2r)));
      const V b1i = wasm_f32x4_add(ai[0], wasm_f32x4_add(wasm_f32x4_mul(c1, t1i), wasm_f32x4_mul(c2, t2i)));
      const V s1r = wasm_f32x4_add(wasm_f32x4_mul(s1, t3r), wasm_f32x4_mul(s2, t4r));
      const V s1i = wasm_f32x4_add(wasm_f32x4_mul(s1, t3i), wasm_f32x4_mul(s2, t4i));
      const V b2r = wasm_f32x4_add(ar[0], wasm_f32x4_add(wasm_f32x4_mul(c2, t1r), wasm_f32x4_mul(c1, t2r)));
      const V b2i = wasm_f32x4_add(ai[0], wasm_f32x4_add(wasm_f32x4_mul(c2, t1i), wasm_f32x4_mul(c1, t2i)));
      const V s2r = wasm_f32x4_sub(wasm_f32x4_mul(s2, t3r), wasm_f32x4_mul(s1, t4r));
      const V s2i = wasm_f32x4_sub(wasm_f32x4_mul(s2, t3i), wasm_f32x4_mul(s1, t4i));
      const V ur[5] = {wasm_f32x4_add(ar[0], wasm_f32x4_add(t1r, t2r)), wasm_f32x4_add(b1r, s1i), wasm_f32x4_add(b2r, s2i), wasm_f32x4_sub(b2r, s2i), wasm_f32x4_sub(b1r, s1i)};
      const V ui[5] = {wasm_f32x4_add(ai[0], wasm_f32x4_add(t1i, t2i)), wasm_f32x4_sub(b1i, s1r), wasm_f32x4_sub(b2i, s2r), wasm_f32x4_add(b2i, s2r), wasm_f32x4_add(b1i, s1r)};
      V *outr = yr + q + s * 5 * p, *outi = yi + q + s * 5 * p;
      outr[0] = ur[0];
      outi[0] = ui[0];
      for (int u = 1; u < 5; u++) {
        outr[s * u] = cmul_re(ur[u], ui[u], wr[u], wi[u]);
        outi[s * u] = cmul_im(ur[u], ui[u], wr[u], wi[u]);
      }
    }
  }
}

// Radix-2 and radix-4 stages have trivial ω (±1, ±i): written out.
static void stage2(int n, int s, const V *xr, const V *xi, V *yr, V *yi) {
  const int m = n / 2, step = NC / n;
  for (int p = 0; p < m; p++) {
    const V wr = wasm_f32x4_splat(twiddle[2 * p * step]), wi = wasm_f32x4_splat(twiddle[2 * p * step + 1]);
    for (int q = 0; q < s; q++) {
      const V ar = xr[q + s * p], ai = xi[q + s * p], br = xr[q + s * (p + m)], bi = xi[q + s * (p + m)];
      yr[q + s * 2 * p] = wasm_f32x4_add(ar, br);
      yi[q + s * 2 * p] = wasm_f32x4_add(ai, bi);
      const V dr = wasm_f32x4_sub(ar, br), di = wasm_f32x4_sub(ai, bi);
      yr[q + s * (2 * p + 1)] = cmul_re(dr, di, wr, wi);
      yi[q + s * (2 * p + 1)] = cmul_im(dr, di, wr, wi);
    }
  }
}

static void stage4(int n, int s, const V *xr, const V *xi, V *yr, V *yi) {
  const int m = n / 4, step = NC / n;
  for (int p = 0; p < m; p++) {
    V wr[4], wi[4];
    for (int u = 1; u < 4; u++) { const int j = ((p * u) % n) * step; wr[u] = wasm_f32x4_splat(twiddle[2 * j]); wi[u] = wasm_f32x4_splat(twiddle[2 * j + 1]); }
    for (int q = 0; q < s; q++) {
      const V a0r = xr[q + s * p], a0i = xi[q + s * p];
      const V a1r = xr[q + s * (p + m)], a1i = xi[q + s * (p + m)];
      const V a2r = xr[q + s * (p + 2 * m)], a2i = xi[q + s * (p + 2 * m)];
      const V a3r = xr[q + s * (p + 3 * m)], a3i = xi[q + s * (p + 3 * m)];
      const V s02r = wasm_f32x4_add(a0r, a2r), s02i = wasm_f32x4_add(a0i, a2i);
      const V d02r = wasm_f32x4_sub(a0r, a2r), d02i = wasm_f32x4_sub(a0i, a2i);
      const V s13r = wasm_f32x4_add(a1r, a3r), s13i = wasm_f32x4_add(a1i, a3i);
      const V d13r = wasm_f32x4_sub(a1r, a3r), d13i = wasm_f32x4_sub(a1i, a3i);
      // u = 0: a0+a1+a2+a3; u = 1: (a0−a2) − i(a1−a3); u = 2: (a0+a2) − (a1+a3); u = 3: (a0−a2) + i(a1−a3)
      yr[q + s * 4 * p] = wasm_f32x4_add(s02r, s13r);
      yi[q + s * 4 * p] = wasm_f32x4_add(s02i, s13i);
      const V u1r = wasm_f32x4_add(d02r, d13i), u1i = wasm_f32x4_sub(d02i, d13r);
      const V u2r = wasm_f32x4_sub(s02r, s13r), u2i = wasm_f32x4_sub(s02i, s13i);
      const V u3r = wasm_f32x4_sub(d02r, d13i), u3i = wasm_f32x4_add(d02i, d13r);
      yr[q + s * (4 * p + 1)] = cmul_re(u1r, u1i, wr[1], wi[1]);
      yi[q + s * (4 * p + 1)] = cmul_im(u1r, u1i, wr[1], wi[1]);
      yr[q + s * (4 * p + 2)] = cmul_re(u2r, u2i, wr[2], wi[2]);
      yi[q + s * (4 * p + 2)] = cmul_im(u2r, u2i, wr[2], wi[2]);
      yr[q + s * (4 * p + 3)] = cmul_re(u3r, u3i, wr[3], wi[3]);
      yi[q + s * (4 * p + 3)] = cmul_im(u3r, u3i, wr[3], wi[3]);
    }
  }
}

// log(x) for x > 0, float32 lanes: x = 2^e · m with m in [√½, √2), log m = f − f²/2 + f³·Q(f),
// f = m − 1, Q of degree 5 fitted (Chebyshev least squares) to |error| < 8e-7 on that range: the
// output's error from it is < 1e-7, far inside the 1e-4 tolerance (Cephes' degree 8 is not needed).
static inline V vlog(V x) {
  const V one = wasm_f32x4_splat(1.0f);
  V e = wasm_f32x4_convert_i32x4(wasm_i32x4_sub(wasm_u32x4_shr(x, 23), wasm_i32x4_splat(127)));
  V m = wasm_v128_or(wasm_v128_and(x, wasm_i32x4_splat(0x007fffff)), wasm_i32x4_splat(0x3f800000)); // [1, 2)
  const V big = wasm_f32x4_gt(m, wasm_f32x4_splat(1.41421356f));
  m = wasm_v128_bitselect(wasm_f32x4_mul(m, wasm_f32x4_splat(0.5f)), m, big);
  e = wasm_v128_bitselect(wasm_f32x4_add(e, one), e, big);
  const V f = wasm_f32x4_sub(m, one);
  const V z = wasm_f32x4_mul(f, f);
  V y = wasm_f32x4_splat(-0.10606687801796462f);
  const float c[] = {0.15702727424291368f, -0.16947613684756332f, 0.1995529517507781f, -0.24994052911163034f, 0.33333557481236326f};
  for (int i = 0; i < 5; i++) y = wasm_f32x4_add(wasm_f32x4_mul(y, f), wasm_f32x4_splat(c[i]));
  y = wasm_f32x4_mul(wasm_f32x4_mul(y, f), z);
  y = wasm_f32x4_sub(y, wasm_f32x4_mul(z, wasm_f32x4_splat(0.5f)));
  return wasm_f32x4_add(wasm_f32x4_add(f, y), wasm_f32x4_mul(e, wasm_f32x4_splat(0.69314718056f)));
}

static V bufR[2][NC], bufI[2][NC];
static V power[NBIN];

// log10 of the mel powers in place; returns the largest value (Whisper's floor is max − 8).
float log10_max(float *x, int count) {
  const V inv_ln10 = wasm_f32x4_splat(0.43429448190f);
  V mx = wasm_f32x4_splat(-1e30f);
  int i = 0;
  for (; i + 4 <= count; i += 4) {
    const V lg = wasm_f32x4_mul(vlog(wasm_v128_load(x + i)), inv_ln10);
    wasm_v128_store(x + i, lg);
    mx = wasm_f32x4_max(mx, lg);
  }
  float m4[4];
  wasm_v128_store(m4, mx);
  float top = m4[0];
  for (int l = 1; l < 4; l++) top = m4[l] > top ? m4[l] : top;
  for (; i < count; i++) { // a tail shorter than a vector: through a padded one
    float t[4] = {x[i], 1.0f, 1.0f, 1.0f};
    wasm_v128_store(t, wasm_f32x4_mul(vlog(wasm_v128_load(t)), inv_ln10));
    x[i] = t[0];
    top = t[0] > top ? t[0] : top;
  }
  return top;
}

// Whisper's dynamic range in place: floor at top − 8, then (x + 4) / 4.
void floor_scale(float *x, int count, float top) {
  const V lo = wasm_f32x4_splat(top - 8.0f), four = wasm_f32x4_splat(4.0f), quarter = wasm_f32x4_splat(0.25f);
  int i = 0;
  for (; i + 4 <= count; i += 4) wasm_v128_store(x + i, wasm_f32x4_mul(wasm_f32x4_add(wasm_f32x4_max(wasm_v128_load(x + i), lo), four), quarter));
  for (; i < count; i++) x[i] = ((x[i] > top - 8.0f ? x[i] : top - 8.0f) + 4.0f) * 0.25f;
}

// Frames [0, frames) of `padded` (frame t starts at sample 160·t; the reflect-padded clip, or the
// part of it a thread works on) -> out [nMels, frames] of max(mel, 1e-10). log10_max() and
// floor_scale() then finish Whisper's log-mel.
void log_mel(const float *padded, int frames, float *restrict out) {
  for (int t0 = 0; t0 < frames; t0 += 4) {
    // Four frames side by side: lane l is frame t0 + l (missing frames past the end repeat the last).
    const float *f[4];
    for (int l = 0; l < 4; l++) f[l] = padded + HOP * (t0 + l < frames ? t0 + l : frames - 1);
    // Samples 4i..4i+3 of the four frames, transposed so that each vector holds one sample of
    // every frame; even samples are the real parts, odd ones the imaginary parts.
    for (int i = 0; i < N_FFT / 4; i++) {
      const V r0 = wasm_v128_load(f[0] + 4 * i), r1 = wasm_v128_load(f[1] + 4 * i);
      const V r2 = wasm_v128_load(f[2] + 4 * i), r3 = wasm_v128_load(f[3] + 4 * i);
      const V lo01 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), hi01 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
      const V lo23 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), hi23 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
      const V w = wasm_v128_load(window_ + 4 * i);
      bufR[0][2 * i] = wasm_f32x4_mul(wasm_i32x4_shuffle(lo01, lo23, 0, 1, 4, 5), wasm_i32x4_shuffle(w, w, 0, 0, 0, 0));
      bufI[0][2 * i] = wasm_f32x4_mul(wasm_i32x4_shuffle(lo01, lo23, 2, 3, 6, 7), wasm_i32x4_shuffle(w, w, 1, 1, 1, 1));
      bufR[0][2 * i + 1] = wasm_f32x4_mul(wasm_i32x4_shuffle(hi01, hi23, 0, 1, 4, 5), wasm_i32x4_shuffle(w, w, 2, 2, 2, 2));
      bufI[0][2 * i + 1] = wasm_f32x4_mul(wasm_i32x4_shuffle(hi01, hi23, 2, 3, 6, 7), wasm_i32x4_shuffle(w, w, 3, 3, 3, 3));
    }
    // 200 = 5 · 5 · 4 · 2: four Stockham stages, ping-ponging between the two buffers.
    stage5(200, 1, bufR[0], bufI[0], bufR[1], bufI[1]);
    stage5(40, 5, bufR[1], bufI[1], bufR[0], bufI[0]);
    stage4(8, 25, bufR[0], bufI[0], bufR[1], bufI[1]);
    stage2(2, 100, bufR[1], bufI[1], bufR[0], bufI[0]);
    const V *zr = bufR[0], *zi = bufI[0];
    // Real FFT of 400 from Z: X_k = E_k + W_400^k·O_k, E = (Z_k + conj Z_{−k})/2, O = (Z_k − conj Z_{−k})/(2i)
    const V half = wasm_f32x4_splat(0.5f);
    for (int k = 0; k < NBIN; k++) {
      const int a = k % NC, b = (NC - k) % NC;
      const V er = wasm_f32x4_mul(wasm_f32x4_add(zr[a], zr[b]), half), ei = wasm_f32x4_mul(wasm_f32x4_sub(zi[a], zi[b]), half);
      // (Z_k − conj Z_{−k})/(2i): numerator (zr[a] − zr[b]) + i(zi[a] + zi[b]); dividing by 2i swaps and negates
      const V or_ = wasm_f32x4_mul(wasm_f32x4_add(zi[a], zi[b]), half), oi = wasm_f32x4_mul(wasm_f32x4_sub(zr[b], zr[a]), half);
      const V wr = wasm_f32x4_splat(split_[2 * k]), wi = wasm_f32x4_splat(split_[2 * k + 1]);
      const V xr = wasm_f32x4_add(er, cmul_re(or_, oi, wr, wi)), xi = wasm_f32x4_add(ei, cmul_im(or_, oi, wr, wi));
      power[k] = wasm_f32x4_add(wasm_f32x4_mul(xr, xr), wasm_f32x4_mul(xi, xi));
    }
    const V floor = wasm_f32x4_splat(1e-10f);
    const V *w = weightv;
    for (int m = 0; m < nMels_; m++) {
      const V *pw = power + band[2 * m];
      const int count = band[2 * m + 1];
      V acc = wasm_f32x4_splat(0.0f);
      for (int i = 0; i < count; i++) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(pw[i], w[i]));
      w += count;
      const V lg = wasm_f32x4_max(acc, floor);
      float *row = out + (long)m * frames + t0;
      if (t0 + 4 <= frames) {
        wasm_v128_store(row, lg);
      } else {
        float tmp[4];
        wasm_v128_store(tmp, lg);
        for (int l = 0; t0 + l < frames; l++) row[l] = tmp[l];
      }
    }
  }
}
