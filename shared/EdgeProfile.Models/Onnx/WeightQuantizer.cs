namespace EdgeProfile.Models.Onnx;

/// <summary>Symmetric 8-bit quantization of a <c>[..., In, Out]</c> weight tensor: <c>w ≈ (q − zeroPoint) · scale</c>.</summary>
internal static class WeightQuantizer
{
    internal readonly record struct Result(byte[] Values, byte ZeroPoint, float[] Scales, long[] ScaleDims);

    public static Result Quantize(float[] w, long[] dims, bool perColumn, Int8WeightType type)
    {
        int outputs = (int)dims[^1];
        int inputs = (int)dims[^2];
        int batches = w.Length / (inputs * outputs);
        var scales = new float[perColumn ? batches * outputs : 1];
        if (perColumn)
        {
            for (int k = 0; k < batches; k++)
            {
                for (int o = 0; o < outputs; o++)
                {
                    float max = 0;
                    for (int i = 0; i < inputs; i++)
                    {
                        max = Math.Max(max, Math.Abs(w[(((k * inputs) + i) * outputs) + o]));
                    }

                    scales[(k * outputs) + o] = ScaleFor(max);
                }
            }
        }
        else
        {
            float max = 0;
            foreach (float v in w)
            {
                max = Math.Max(max, Math.Abs(v));
            }

            scales[0] = ScaleFor(max);
        }

        // Symmetric range [−127, 127] (not −128) so that negating a weight never clips.
        byte offset = type == Int8WeightType.Offset128 ? (byte)128 : (byte)0;
        var values = new byte[w.Length];
        for (int n = 0; n < w.Length; n++)
        {
            int o = n % outputs;
            int k = n / (inputs * outputs);
            float scale = perColumn ? scales[(k * outputs) + o] : scales[0];
            int q = Math.Clamp((int)MathF.Round(w[n] / scale, MidpointRounding.ToEven), -127, 127);
            values[n] = unchecked((byte)(q + offset));
        }

        long[] scaleDims = !perColumn ? [] : dims.Length == 2 ? [outputs] : [.. dims[..^2], 1, outputs];
        return new Result(values, offset, scales, scaleDims);
    }

    private static float ScaleFor(float maxAbs) => maxAbs > 0 ? maxAbs / 127f : 1f;
}
