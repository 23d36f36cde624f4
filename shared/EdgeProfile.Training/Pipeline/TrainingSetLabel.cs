namespace EdgeProfile.Training.Pipeline;

/// <summary>A label column of a training set as its manifest describes it: name, kind (<c>Purchase</c>, <c>NoPurchase</c>, <c>Spend</c>) and horizon (e.g. <c>30d</c>).</summary>
public sealed record TrainingSetLabel(string Name, string Kind, string Horizon);
