using System.Text.Json.Serialization;
using EdgeProfile.Core.Features;
using EdgeProfile.Synthesis.Selection;

namespace EdgeProfile.Synthesis.Reporting;

/// <summary>JSON of synthesis reports: camelCase keys, snake_case enums, indented.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    Converters = [typeof(SnakeEnum<DropReason>)])]
[JsonSerializable(typeof(SynthesisReport))]
public sealed partial class ReportJson : JsonSerializerContext;
