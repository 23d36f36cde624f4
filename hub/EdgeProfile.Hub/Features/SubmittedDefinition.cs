using EdgeProfile.Core.Features;

namespace EdgeProfile.Hub.Features;

/// <summary>A validated definition as submitted; <paramref name="VersionGiven"/> when the body named a version.</summary>
/// <param name="Definition">The definition.</param>
/// <param name="VersionGiven">Whether the body had a <c>version</c> key (else the registry picks the version).</param>
/// <param name="Key">Where it sat in the request, for messages: <c>""</c> or <c>definitions[3].</c>.</param>
internal sealed record SubmittedDefinition(FeatureDefinition Definition, bool VersionGiven, string Key);
