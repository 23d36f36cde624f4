namespace EdgeProfile.Models.Onnx;

/// <summary>Stored type of int8-quantized weights (both are one byte per weight, symmetric around zero).</summary>
public enum Int8WeightType
{
    /// <summary>Signed int8 in [−127, 127], zero point 0. ONNX Runtime multiplies it with uint8 activations (u8·s8);
    /// on x86 CPUs with VNNI that is exact, on AVX2-only CPUs its 16-bit intermediate sums can saturate when large
    /// activations meet large weights (documented by ONNX Runtime and OpenVINO).</summary>
    ZeroCentered,

    /// <summary>The same values shifted by 128 into uint8 [1, 255] with zero point 128: u8·u8 is computed without
    /// saturation on every x86 CPU, at the same size.</summary>
    Offset128,
}
