namespace EdgeProfile.Federated.Privacy;

/// <summary>
/// An (ε, δ) guarantee after <paramref name="Rounds"/> composed rounds, with the Rényi order that gave the smallest ε
/// (<paramref name="OptimalOrder"/>; when it is the smallest or largest order tracked, a wider order set could give a
/// smaller ε).
/// </summary>
public readonly record struct PrivacySpent(double Epsilon, double Delta, double OptimalOrder, int Rounds);
