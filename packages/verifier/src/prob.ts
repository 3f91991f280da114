/** Lanczos approximation of ln Gamma(x), x > 0 (g = 7, n = 9; Numerical Recipes 3rd ed. 6.1; |error| < 1e-15). */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ]
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x)
  const z = x - 1
  let a = c[0] as number
  const t = z + 7.5
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (z + i)
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a)
}

/** Iterations of the gamma series and continued fraction (both converge in well under 200 for a < 1000). */
export const gammaIterationsMax = 500

/** Regularised lower incomplete gamma P(a, x) (series for x < a + 1, Lentz continued fraction otherwise). */
export function regularizedGammaP(a: number, x: number): number {
  if (x <= 0) return 0
  const lnPrefix = a * Math.log(x) - x - lnGamma(a)
  if (x < a + 1) {
    let term = 1 / a
    let sum = term
    for (let n = 1; n < gammaIterationsMax; n++) {
      term *= x / (a + n)
      sum += term
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break
    }
    return Math.min(1, sum * Math.exp(lnPrefix))
  }
  return 1 - regularizedGammaQ(a, x)
}

/** Regularised upper incomplete gamma Q(a, x) = 1 - P(a, x). */
export function regularizedGammaQ(a: number, x: number): number {
  if (x <= 0) return 1
  if (x < a + 1) return 1 - regularizedGammaP(a, x)
  const lnPrefix = a * Math.log(x) - x - lnGamma(a)
  const tiny = 1e-300
  let b = x + 1 - a
  let c = 1 / tiny
  let d = 1 / b
  let h = d
  for (let i = 1; i < gammaIterationsMax; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < tiny) d = tiny
    c = b + an / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < 1e-15) break
  }
  return Math.max(0, Math.min(1, Math.exp(lnPrefix) * h))
}

/** P(X >= x) for X ~ chi-square with k degrees of freedom. */
export function chiSquareUpper(x: number, k: number): number {
  return regularizedGammaQ(k / 2, x / 2)
}

/** P(X <= x) for X ~ chi-square with k degrees of freedom. */
export function chiSquareLower(x: number, k: number): number {
  return regularizedGammaP(k / 2, x / 2)
}

/** P(M >= m) where M is a sum of independent Bernoulli(q_i) (Poisson-binomial, exact dynamic programme). */
export function poissonBinomialUpper(qs: readonly number[], m: number): number {
  if (m <= 0) return 1
  if (m > qs.length) return 0
  // dist[j] = P(j successes so far), j capped at m (the tail we need).
  const dist = new Float64Array(m + 1)
  dist[0] = 1
  for (const q of qs) {
    for (let j = m; j >= 1; j--) {
      const stay = j === m ? (dist[j] as number) : (dist[j] as number) * (1 - q)
      dist[j] = stay + (dist[j - 1] as number) * q
    }
    dist[0] = (dist[0] as number) * (1 - q)
  }
  return Math.min(1, dist[m] as number)
}

/**
 * ln erfc(x) for x >= 0 with relative precision (Chebyshev fit, fractional error < 1.2e-7 everywhere,
 * Numerical Recipes' erfcc): the tails near a receiver's sensitivity reach 1e-20 and below, where an
 * absolute-error erf (model.ts's normalCdf) has no significant digits left.
 */
function lnErfcPositive(x: number): number {
  const t = 1 / (1 + 0.5 * x)
  return Math.log(t) - x * x + erfcExponent(t)
}

/** The fit's exponent: erfc(x) = t exp(-x^2 + erfcExponent(t)), t = 1 / (1 + x / 2). */
function erfcExponent(t: number): number {
  const c = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277]
  let y = 0
  for (let i = c.length - 1; i >= 0; i--) y = y * t + (c[i] as number)
  return y
}

/** P(Z > z) for a standard normal Z, with relative precision in the upper tail (one exp). */
export function normalUpper(z: number): number {
  const x = Math.abs(z) / Math.SQRT2
  const t = 1 / (1 + 0.5 * x)
  const tail = 0.5 * t * Math.exp(-x * x + erfcExponent(t))
  return z >= 0 ? tail : 1 - tail
}

/** ln P(Z > z) for a standard normal Z, precise in both tails. */
export function logNormalUpper(z: number): number {
  const x = z / Math.SQRT2
  return x >= 0 ? Math.log(0.5) + lnErfcPositive(x) : Math.log1p(-0.5 * Math.exp(lnErfcPositive(-x)))
}
