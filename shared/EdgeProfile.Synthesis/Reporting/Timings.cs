namespace EdgeProfile.Synthesis.Reporting;

/// <summary>Seconds per stage.</summary>
/// <param name="Load">Loading the CSV.</param>
/// <param name="Synthesis">Building and computing the candidates.</param>
/// <param name="Selection">Selection and export.</param>
public sealed record Timings(double Load, double Synthesis, double Selection);
