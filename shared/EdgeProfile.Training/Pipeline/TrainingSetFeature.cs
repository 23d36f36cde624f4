namespace EdgeProfile.Training.Pipeline;

/// <summary>A feature column of a training set: its column id (<c>name@vN</c>), the definition name the edge knows, and its version.</summary>
public sealed record TrainingSetFeature(string Id, string Name, int Version);
