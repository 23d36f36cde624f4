namespace EdgeProfile.Cli.Mqtt;

/// <summary>Reads a JSONL file as raw line bytes (no re-encoding), skipping blank lines and a leading UTF-8 BOM.</summary>
public static class JsonLines
{
    /// <summary>The non-blank lines of <paramref name="stream"/>, without their line ending (\n or \r\n).</summary>
    public static IEnumerable<byte[]> Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = new byte[64 * 1024];
        var line = new MemoryStream();
        var first = true;
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            var start = 0;
            if (first)
            {
                first = false;
                if (read >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF)
                {
                    start = 3;
                }
            }

            while (start < read)
            {
                var nl = Array.IndexOf(buffer, (byte)'\n', start, read - start);
                if (nl < 0)
                {
                    line.Write(buffer, start, read - start);
                    break;
                }

                line.Write(buffer, start, nl - start);
                start = nl + 1;
                if (Take(line) is { } bytes)
                {
                    yield return bytes;
                }
            }
        }

        if (Take(line) is { } last)
        {
            yield return last;
        }
    }

    /// <summary>Counts the lines <see cref="Read"/> would return.</summary>
    public static long Count(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream).LongCount();
    }

    private static byte[]? Take(MemoryStream line)
    {
        var span = line.GetBuffer().AsSpan(0, (int)line.Length);
        if (span.Length > 0 && span[^1] == (byte)'\r')
        {
            span = span[..^1];
        }

        byte[]? result = null;
        foreach (var b in span)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
            {
                result = span.ToArray();
                break;
            }
        }

        line.SetLength(0);
        return result;
    }
}
