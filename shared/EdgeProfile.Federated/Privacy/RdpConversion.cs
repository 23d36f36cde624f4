namespace EdgeProfile.Federated.Privacy;

/// <summary>How an RDP curve is turned into an (ε, δ) guarantee.</summary>
public enum RdpConversion
{
    /// <summary>
    /// The default: <c>ε = min_α [ rdp(α) + log((α−1)/α) − (log δ + log α)/(α−1) ]</c>, Proposition 12 of Canonne,
    /// Kamath, Steinke 2020 ("The Discrete Gaussian for Differential Privacy", arXiv:2004.00010) and Balle et al. 2020
    /// ("Hypothesis Testing Interpretations and Renyi Differential Privacy", arXiv:2001.05990 eq. 20). It is valid and
    /// never looser than <see cref="Classic"/>; Opacus' <c>get_privacy_spent</c> and dp_accounting's
    /// <c>compute_epsilon</c> use it. Like dp_accounting, an order whose divergence already implies (0, δ) through
    /// <c>δ ≥ √(1 − e^(−rdp))</c> gives ε = 0, and orders ≤ 1.01 are skipped (the bound is unstable there).
    /// </summary>
    Improved,

    /// <summary>
    /// <c>ε = min_α [ rdp(α) + log(1/δ)/(α−1) ]</c>, Mironov 2017 ("Rényi Differential Privacy", Proposition 3), as
    /// TF-Privacy reported before 2020. Kept to compare with figures published with it.
    /// </summary>
    Classic,
}
