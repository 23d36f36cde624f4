namespace EdgeProfile.Semantic.Tests.Text;

/// <summary>Small vector helpers for the text-embedding tests.</summary>
internal static class VectorAssert
{
    public static float Dot(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += (double)a[i] * b[i];
        }
        return (float)sum;
    }

    public static void UnitLength(float[] vector, double tolerance = 1e-5)
    {
        double norm = Math.Sqrt(Dot(vector, vector));
        Assert.True(Math.Abs(norm - 1) < tolerance, $"norm {norm}");
    }

    public static void Zero(float[] vector) => Assert.All(vector, v => Assert.Equal(0f, v));

    public static void Close(float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"[{i}] {expected[i]} vs {actual[i]}");
        }
    }
}
