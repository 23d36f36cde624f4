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

    /// <summary>The same JSON as <see cref="Serialize(StoreProfile)"/>, as UTF-8 into <paramref name="writer"/> (reset by the caller).</summary>
    public static void Serialize(StoreProfile profile, Utf8JsonWriter writer)
    {
        JsonSerializer.Serialize(writer, profile, Default.StoreProfile);
        writer.Flush();
    }

    public static StoreProfile Deserialize(string json) =>
        JsonSerializer.Deserialize(json, Default.StoreProfile) ?? throw new InvalidDataException("empty profile state");
}
