using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeProfile.Models;

/// <summary>
/// Everything of a model but its trainable parameters: the architecture and the input transform (log1p flags, mean,
/// standard deviation). Federated learning fixes it for a job and exchanges only the flat parameter vector
/// (<see cref="ModelWeightsVector"/>); <see cref="ToWeights"/> puts the two together. JSON in camelCase.
/// </summary>
public sealed record ModelTemplate(ModelSpec Spec, float[] Mean, float[] Std, IReadOnlyList<bool>? Log1p)
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The template as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Reads <see cref="ToJson"/>'s output; throws <see cref="InvalidDataException"/> naming the problem.</summary>
    public static ModelTemplate FromJson(string json)
    {
        ModelTemplate? template;
        try
        {
            template = JsonSerializer.Deserialize<ModelTemplate>(json, Options);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"model template: {ex.Message}", ex);
        }
        if (template?.Spec is null || template.Mean is null || template.Std is null)
        {
            throw new InvalidDataException("model template: spec, mean and std are required");
        }
        var inputs = template.Spec.Inputs;
        if (template.Mean.Length != inputs || template.Std.Length != inputs || (template.Log1p is { } l && l.Count != inputs))
        {
            throw new InvalidDataException($"model template: {inputs} features but mean/std/log1p of other lengths");
        }
        return template;
    }

    /// <summary>The template's weights with parameters <paramref name="vector"/> (in <see cref="ModelWeightsVector"/> order).</summary>
    public ModelWeights ToWeights(ReadOnlySpan<float> vector) => ModelWeightsVector.Unflatten(Initial(0), vector);

    /// <summary>
    /// Weights initialised as torch's <c>nn.Linear</c> does by default (weights and biases uniform in
    /// ±1/√fan_in), seeded: the starting point of a federated job.
    /// </summary>
    public ModelWeights Initial(int seed)
    {
        var random = new Random(seed);
        DenseWeights Dense(int input, int output)
        {
            var bound = 1.0 / Math.Sqrt(input);
            var w = new float[input * output];
            var b = new float[output];
            for (var i = 0; i < w.Length; i++)
            {
                w[i] = (float)(((random.NextDouble() * 2) - 1) * bound);
            }
            for (var i = 0; i < b.Length; i++)
            {
                b[i] = (float)(((random.NextDouble() * 2) - 1) * bound);
            }
            return new DenseWeights(input, output, w, b);
        }
        IReadOnlyList<DenseWeights> Stack(int input, IReadOnlyList<int> hidden, int? output)
        {
            var layers = new List<DenseWeights>();
            var width = input;
            foreach (var h in hidden)
            {
                layers.Add(Dense(width, h));
                width = h;
            }
            if (output is { } o)
            {
                layers.Add(Dense(width, o));
            }
            return layers;
        }

        var experts = Enumerable.Range(0, Spec.Experts).Select(_ => Stack(Spec.Inputs, Spec.ExpertHidden, null)).ToArray();
        var gates = Spec.Tasks.Select(_ => Dense(Spec.Inputs, Spec.Experts)).ToArray();
        var towers = Spec.Tasks.Select(t => Stack(Spec.ExpertOutputs, Spec.TowerHidden, t.Outputs)).ToArray();
        return new ModelWeights(Spec, (float[])Mean.Clone(), (float[])Std.Clone(), experts, gates, towers) { Log1p = Log1p };
    }
}
