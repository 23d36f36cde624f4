using System.Text;
using EdgeProfile.Hosting;

namespace EdgeProfile.Hub.Storage;

/// <summary>Small secret files readable by the hub's user only (mode 0600), written atomically.</summary>
internal static class SecretFile
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Reads the trimmed text of <paramref name="path"/>, or null when it does not exist.</summary>
    public static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path, Encoding.UTF8).Trim();
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"Hub:DataDir: cannot read '{path}': {ex.Message}", ex);
        }
    }

    /// <summary>True when group or others may read <paramref name="path"/>.</summary>
    public static bool IsExposed(string path) =>
        !OperatingSystem.IsWindows() &&
        (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0;

    /// <summary>
    /// Creates <paramref name="path"/> with <paramref name="text"/> and mode 0600. Fails if it already exists, so a
    /// secret is never silently replaced.
    /// </summary>
    public static void Create(string path, string text)
    {
        var tmp = path + ".tmp";
        try
        {
            // A leftover temp file might carry a wider mode; start from nothing.
            File.Delete(tmp);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerOnly;
            }

            using (var stream = new FileStream(tmp, options))
            {
                stream.Write(Encoding.UTF8.GetBytes(text + "\n"));
                stream.Flush(flushToDisk: true);
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(tmp, OwnerOnly);
            }

            File.Move(tmp, path, overwrite: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"Hub:DataDir: cannot write '{path}': {ex.Message}", ex);
        }
    }
}
