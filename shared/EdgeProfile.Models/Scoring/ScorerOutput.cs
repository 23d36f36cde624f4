namespace EdgeProfile.Models.Scoring;

/// <summary>One model output (a task): its name and width per row.</summary>
public sealed record ScorerOutput(string Name, int Width);
