using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeProfile.Core.Profiles;

namespace EdgeProfile.Edge.Log;

/// <summary>How a <see cref="StoreProfile"/> is stored in the profiles table.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StoreProfile))]
internal sealed partial class ProfileJson : JsonSerializerContext
{
    public static string Serialize(StoreProfile profile) => JsonSerializer.Serialize(profile, Default.StoreProfile);

    public static StoreProfile Deserialize(string json) =>
        JsonSerializer.Deserialize(json, Default.StoreProfile) ?? throw new InvalidDataException("empty profile state");
}
