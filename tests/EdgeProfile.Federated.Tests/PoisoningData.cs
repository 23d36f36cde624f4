using System.IO.Compression;

namespace EdgeProfile.Federated.Tests;

/// <summary>
/// Fashion-MNIST rows for the poisoning test, read in place from <c>shared/data/fashion-mnist</c> (the original IDX gz
/// files; see SOURCE.txt there). Images are 2×2 average-pooled to 14×14 = 196 features in [0, 1] to keep the test fast;
/// the backdoor trigger is stamped on the 28×28 image before pooling.
/// </summary>
internal sealed class PoisoningData
{
    public const int Side = 28;
    public const int Pooled = 14;
    public const int Features = Pooled * Pooled;

    private PoisoningData(byte[][] images, byte[] labels)
    {
        Images = images;
        Labels = labels;
    }

    /// <summary>Raw 28×28 images, row-major, 0–255.</summary>
    public byte[][] Images { get; }

    /// <summary>Class 0–9 of each image.</summary>
    public byte[] Labels { get; }

    public int Count => Labels.Length;

    public static string Directory()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "data", "fashion-mnist");
                if (File.Exists(Path.Combine(candidate, "train-images-idx3-ubyte.gz")))
                {
                    return candidate;
                }
            }
        }
        throw new InvalidOperationException("shared/data/fashion-mnist not found above the working directory or the test binary");
    }

    /// <summary>The first <paramref name="count"/> rows of the train (<c>train</c>) or test (<c>t10k</c>) split.</summary>
    public static PoisoningData Load(string split, int count)
    {
        var dir = Directory();
        var images = new byte[count][];
        using (var stream = new GZipStream(File.OpenRead(Path.Combine(dir, $"{split}-images-idx3-ubyte.gz")), CompressionMode.Decompress))
        {
            var header = ReadExactly(stream, 16);
            if (BigEndian(header, 0) != 2051 || BigEndian(header, 8) != Side || BigEndian(header, 12) != Side || BigEndian(header, 4) < count)
            {
                throw new InvalidDataException($"{split} images: unexpected IDX header");
            }
            for (var i = 0; i < count; i++)
            {
                images[i] = ReadExactly(stream, Side * Side);
            }
        }
        byte[] labels;
        using (var stream = new GZipStream(File.OpenRead(Path.Combine(dir, $"{split}-labels-idx1-ubyte.gz")), CompressionMode.Decompress))
        {
            var header = ReadExactly(stream, 8);
            if (BigEndian(header, 0) != 2049 || BigEndian(header, 4) < count)
            {
                throw new InvalidDataException($"{split} labels: unexpected IDX header");
            }
            labels = ReadExactly(stream, count);
        }
        return new PoisoningData(images, labels);
    }

    /// <summary>The bright 3×3 trigger in the bottom-right corner (rows and columns 24–26).</summary>
    public static byte[] WithTrigger(byte[] image)
    {
        var copy = (byte[])image.Clone();
        for (var r = 24; r <= 26; r++)
        {
            for (var c = 24; c <= 26; c++)
            {
                copy[(r * Side) + c] = 255;
            }
        }
        return copy;
    }

    /// <summary>2×2 average pooling to 196 features scaled to [0, 1].</summary>
    public static float[] Pool(byte[] image)
    {
        var features = new float[Features];
        for (var r = 0; r < Pooled; r++)
        {
            for (var c = 0; c < Pooled; c++)
            {
                var top = (2 * r * Side) + (2 * c);
                var sum = image[top] + image[top + 1] + image[top + Side] + image[top + Side + 1];
                features[(r * Pooled) + c] = sum / (4f * 255f);
            }
        }
        return features;
    }

    private static byte[] ReadExactly(Stream stream, int count)
    {
        var buffer = new byte[count];
        stream.ReadExactly(buffer);
        return buffer;
    }

    private static int BigEndian(byte[] b, int offset) =>
        (b[offset] << 24) | (b[offset + 1] << 16) | (b[offset + 2] << 8) | b[offset + 3];
}
