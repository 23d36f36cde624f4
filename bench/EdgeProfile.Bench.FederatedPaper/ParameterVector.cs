using static TorchSharp.torch;

namespace EdgeProfile.Bench.FederatedPaper;

/// <summary>
/// A module's parameters as one flat float vector, in <c>named_parameters()</c> order — the layout the federated
/// core (<c>EdgeProfile.Federated</c>) aggregates.
/// </summary>
internal static class ParameterVector
{
    public static float[] Flatten(nn.Module module)
    {
        var parts = new List<float[]>();
        foreach (var (_, p) in module.named_parameters())
        {
            using var scope = NewDisposeScope();
            parts.Add(p.detach().contiguous().data<float>().ToArray());
        }

        var flat = new float[parts.Sum(a => a.Length)];
        var offset = 0;
        foreach (var part in parts)
        {
            part.CopyTo(flat, offset);
            offset += part.Length;
        }

        return flat;
    }

    /// <summary>Overwrites the module's parameters with <paramref name="flat"/>.</summary>
    public static void Load(nn.Module module, float[] flat)
    {
        using var noGrad = no_grad();
        var offset = 0;
        foreach (var (name, p) in module.named_parameters())
        {
            using var scope = NewDisposeScope();
            var count = (int)p.numel();
            if (offset + count > flat.Length)
            {
                throw new ArgumentException($"the vector has {flat.Length} values, parameter {name} needs more", nameof(flat));
            }

            p.copy_(tensor(flat.AsSpan(offset, count).ToArray(), p.shape));
            offset += count;
        }

        if (offset != flat.Length)
        {
            throw new ArgumentException($"the vector has {flat.Length} values, the module {offset}", nameof(flat));
        }
    }

    /// <summary><c>local − global</c>.</summary>
    public static float[] Delta(float[] local, float[] global)
    {
        var delta = new float[local.Length];
        for (var i = 0; i < delta.Length; i++)
        {
            delta[i] = local[i] - global[i];
        }

        return delta;
    }
}
