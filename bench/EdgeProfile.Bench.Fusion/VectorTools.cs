using System.Numerics;

namespace EdgeProfile.Bench.Fusion;

/// <summary>The small linear-algebra pieces of the bench: dot products, spherical k-means, PCA by subspace iteration.</summary>
internal static class VectorTools
{
    /// <summary>Σ a[i]·b[i].</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = Vector<float>.Zero;
        var i = 0;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            sum += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
        }
        var result = Vector.Sum(sum);
        for (; i < a.Length; i++)
        {
            result += a[i] * b[i];
        }
        return result;
    }

    /// <summary>Scales <paramref name="v"/> to unit length in place (a zero vector stays zero).</summary>
    public static void Normalize(float[] v)
    {
        var norm = MathF.Sqrt(Dot(v, v));
        if (norm > 0)
        {
            for (var i = 0; i < v.Length; i++)
            {
                v[i] /= norm;
            }
        }
    }

    /// <summary>
    /// Spherical k-means (cosine similarity) of unit vectors <paramref name="points"/> into <paramref name="k"/> clusters:
    /// k-means++ seeding (distance 1 − cosine) from a <see cref="Random"/> seeded with <paramref name="seed"/>, then Lloyd
    /// iterations (assign to the most similar centroid; centroid = normalised mean) until no assignment changes or
    /// <paramref name="iterations"/> passes. Returns the unit centroids.
    /// </summary>
    public static float[][] SphericalKMeans(IReadOnlyList<float[]> points, int k, int seed, int iterations = 100)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (points.Count < k)
        {
            throw new ArgumentException($"{points.Count} points for {k} clusters", nameof(points));
        }
        var random = new Random(seed);
        var dimensions = points[0].Length;
        var centroids = new List<float[]> { (float[])points[random.Next(points.Count)].Clone() };
        var distance = points.Select(p => Math.Max(0, 1 - Dot(p, centroids[0]))).ToArray();
        while (centroids.Count < k)
        {
            var total = distance.Sum(d => (double)d);
            var pick = 0;
            if (total > 0)
            {
                var target = random.NextDouble() * total;
                for (double cumulative = 0; pick < points.Count - 1; pick++)
                {
                    cumulative += distance[pick];
                    if (cumulative >= target)
                    {
                        break;
                    }
                }
            }
            else
            {
                pick = random.Next(points.Count);
            }
            var centroid = (float[])points[pick].Clone();
            centroids.Add(centroid);
            for (var i = 0; i < points.Count; i++)
            {
                distance[i] = Math.Min(distance[i], Math.Max(0, 1 - Dot(points[i], centroid)));
            }
        }

        var assignment = Enumerable.Repeat(-1, points.Count).ToArray();
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            var changed = 0;
            for (var i = 0; i < points.Count; i++)
            {
                var best = Nearest(centroids, points[i]);
                if (best != assignment[i])
                {
                    assignment[i] = best;
                    changed++;
                }
            }
            if (changed == 0)
            {
                break;
            }
            var sums = Enumerable.Range(0, k).Select(_ => new float[dimensions]).ToArray();
            var counts = new int[k];
            for (var i = 0; i < points.Count; i++)
            {
                counts[assignment[i]]++;
                var s = sums[assignment[i]];
                for (var j = 0; j < dimensions; j++)
                {
                    s[j] += points[i][j];
                }
            }
            for (var c = 0; c < k; c++)
            {
                if (counts[c] > 0)
                {
                    Normalize(sums[c]);
                    centroids[c] = sums[c];
                }
            }
        }
        return [.. centroids];
    }

    /// <summary>Index of the centroid most similar (dot product) to <paramref name="point"/>; ties: the lowest index.</summary>
    public static int Nearest(IReadOnlyList<float[]> centroids, float[] point)
    {
        var best = 0;
        var bestScore = float.NegativeInfinity;
        for (var c = 0; c < centroids.Count; c++)
        {
            var score = Dot(point, centroids[c]);
            if (score > bestScore)
            {
                bestScore = score;
                best = c;
            }
        }
        return best;
    }

    /// <summary>
    /// PCA of <paramref name="rows"/> to <paramref name="components"/> dimensions: the mean, and the top eigenvectors of
    /// the covariance (orthogonal subspace iteration, <paramref name="iterations"/> passes, from a seeded random start),
    /// sorted by eigenvalue; also the share of the total variance they explain.
    /// </summary>
    public static Pca FitPca(IReadOnlyList<float[]> rows, int components, int seed, int iterations = 200)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var d = rows[0].Length;
        if (components < 1 || components > d)
        {
            throw new ArgumentOutOfRangeException(nameof(components), components, $"must be in 1..{d}");
        }
        var mean = new double[d];
        foreach (var r in rows)
        {
            for (var j = 0; j < d; j++)
            {
                mean[j] += r[j] / (double)rows.Count;
            }
        }
        var covariance = new double[d, d];
        var centred = new double[d];
        foreach (var r in rows)
        {
            for (var j = 0; j < d; j++)
            {
                centred[j] = r[j] - mean[j];
            }
            for (var a = 0; a < d; a++)
            {
                var ca = centred[a];
                for (var b = a; b < d; b++)
                {
                    covariance[a, b] += ca * centred[b];
                }
            }
        }
        for (var a = 0; a < d; a++)
        {
            for (var b = a; b < d; b++)
            {
                covariance[a, b] /= Math.Max(1, rows.Count - 1);
                covariance[b, a] = covariance[a, b];
            }
        }
        var trace = Enumerable.Range(0, d).Sum(j => covariance[j, j]);

        var random = new Random(seed);
        var basis = new double[components][];
        for (var c = 0; c < components; c++)
        {
            basis[c] = [.. Enumerable.Range(0, d).Select(_ => random.NextDouble() - 0.5)];
        }
        Orthonormalize(basis);
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            basis = [.. basis.Select(v => Multiply(covariance, v))];
            Orthonormalize(basis);
        }
        var eigenvalues = basis.Select(v => Dot(v, Multiply(covariance, v))).ToArray();
        var order = Enumerable.Range(0, components).OrderByDescending(c => eigenvalues[c]).ToArray();
        return new Pca(
            [.. mean.Select(m => (float)m)],
            [.. order.Select(c => basis[c].Select(x => (float)x).ToArray())],
            trace > 0 ? eigenvalues.Sum() / trace : 0);

        static double[] Multiply(double[,] m, double[] v)
        {
            var n = v.Length;
            var result = new double[n];
            for (var a = 0; a < n; a++)
            {
                double s = 0;
                for (var b = 0; b < n; b++)
                {
                    s += m[a, b] * v[b];
                }
                result[a] = s;
            }
            return result;
        }

        static double Dot(double[] a, double[] b) => a.Zip(b, (x, y) => x * y).Sum();

        static void Orthonormalize(double[][] vectors)
        {
            for (var c = 0; c < vectors.Length; c++)
            {
                for (var p = 0; p < c; p++)
                {
                    var projection = Dot(vectors[c], vectors[p]);
                    for (var j = 0; j < vectors[c].Length; j++)
                    {
                        vectors[c][j] -= projection * vectors[p][j];
                    }
                }
                var norm = Math.Sqrt(Dot(vectors[c], vectors[c]));
                for (var j = 0; j < vectors[c].Length; j++)
                {
                    vectors[c][j] = norm > 0 ? vectors[c][j] / norm : 0;
                }
            }
        }
    }
}

/// <summary>A fitted PCA: <c>y = Components·(x − Mean)</c>.</summary>
/// <param name="Mean">Mean of the fitted rows.</param>
/// <param name="Components">Unit, orthogonal directions, largest variance first.</param>
/// <param name="ExplainedShare">Share of the total variance along <paramref name="Components"/>.</param>
internal sealed record Pca(float[] Mean, float[][] Components, double ExplainedShare)
{
    /// <summary>The projection of <paramref name="x"/>.</summary>
    public float[] Project(float[] x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var centred = x.Select((v, j) => v - Mean[j]).ToArray();
        return [.. Components.Select(c => VectorTools.Dot(centred, c))];
    }
}
