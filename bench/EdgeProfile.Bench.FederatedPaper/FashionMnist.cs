using System.Buffers.Binary;
using System.IO.Compression;

namespace EdgeProfile.Bench.FederatedPaper;

/// <summary>
/// Fashion-MNIST as the original IDX gz files (big-endian headers: magic 0x00000803 for images, 0x00000801 for labels,
/// then the dimensions). Pixels are scaled to [0, 1] exactly as torchvision's <c>ToTensor()</c> does, with no further
/// normalisation: NIID-Bench (utils.py, <c>get_dataloader</c>, 'fmnist') uses <c>ToTensor()</c> and nothing else.
/// </summary>
internal sealed record FashionMnist(float[] TrainImages, long[] TrainLabels, float[] TestImages, long[] TestLabels)
{
    public const int Side = 28;
    public const int Pixels = Side * Side;
    public const int Classes = 10;

    public int TrainCount => TrainLabels.Length;

    public int TestCount => TestLabels.Length;

    /// <summary>Reads the four files of <paramref name="directory"/>.</summary>
    public static FashionMnist Load(string directory)
    {
        var trainImages = Images(Path.Combine(directory, "train-images-idx3-ubyte.gz"));
        var trainLabels = Labels(Path.Combine(directory, "train-labels-idx1-ubyte.gz"));
        var testImages = Images(Path.Combine(directory, "t10k-images-idx3-ubyte.gz"));
        var testLabels = Labels(Path.Combine(directory, "t10k-labels-idx1-ubyte.gz"));
        if (trainImages.Length != trainLabels.Length * Pixels || testImages.Length != testLabels.Length * Pixels)
        {
            throw new InvalidDataException($"{directory}: image and label counts differ");
        }

        return new FashionMnist(trainImages, trainLabels, testImages, testLabels);
    }

    private static float[] Images(string path)
    {
        var bytes = ReadGz(path);
        var count = Header(bytes, path, 0x00000803, 3);
        var rows = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(8));
        var cols = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(12));
        if (rows != Side || cols != Side || bytes.Length != 16 + (count * Pixels))
        {
            throw new InvalidDataException($"{path}: expected {count} images of {Side}x{Side}, got {rows}x{cols} and {bytes.Length} bytes");
        }

        var images = new float[count * Pixels];
        for (var i = 0; i < images.Length; i++)
        {
            images[i] = bytes[16 + i] / 255f;
        }

        return images;
    }

    private static long[] Labels(string path)
    {
        var bytes = ReadGz(path);
        var count = Header(bytes, path, 0x00000801, 1);
        if (bytes.Length != 8 + count)
        {
            throw new InvalidDataException($"{path}: expected {count} labels, got {bytes.Length - 8} bytes");
        }

        var labels = new long[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = bytes[8 + i];
            if (labels[i] >= Classes)
            {
                throw new InvalidDataException($"{path}: label {labels[i]} at {i}");
            }
        }

        return labels;
    }

    private static int Header(byte[] bytes, string path, int magic, int dimensions)
    {
        if (bytes.Length < 4 + (4 * dimensions) || BinaryPrimitives.ReadInt32BigEndian(bytes) != magic)
        {
            throw new InvalidDataException($"{path}: not an IDX file with magic 0x{magic:x8}");
        }

        return BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
    }

    private static byte[] ReadGz(string path)
    {
        using var file = File.OpenRead(path);
        using var gz = new GZipStream(file, CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gz.CopyTo(memory);
        return memory.ToArray();
    }
}
