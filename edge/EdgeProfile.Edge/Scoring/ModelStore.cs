using System.Text.Json;
using EdgeProfile.Models.Serving;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Scoring;

/// <summary>
/// The model the hub assigned and this edge accepted, kept in the data directory (<c>models/</c>: the ONNX file under
/// its hash and <c>serving.json</c> naming it), so the edge serves it again after a restart without the hub. Written
/// only after the canary passed; the file is written and synced before the pointer is swapped in by rename, so a crash
/// leaves either the old pointer or the new one, each naming a complete file.
/// </summary>
public sealed class ModelStore(IOptions<EdgeOptions> options)
{
    private const string PointerName = "serving.json";

    private string Directory => Path.Combine(options.Value.DataDir, "models");

    /// <summary>The saved model, or null when there is none (or its file is missing or does not match its hash).</summary>
    public SavedModel? Load()
    {
        var pointer = Path.Combine(Directory, PointerName);
        if (!File.Exists(pointer))
        {
            return null;
        }

        try
        {
            var saved = JsonSerializer.Deserialize<Pointer>(File.ReadAllText(pointer), JsonSerializerOptions.Web);
            if (saved is null || !ModelArtifact.IsValidVersion(saved.Version) || saved.Sha256 is not { Length: 64 } sha)
            {
                return null;
            }

            var content = File.ReadAllBytes(Path.Combine(Directory, sha + ".onnx"));
            return ModelArtifact.Sha256Of(content) == sha ? new SavedModel(saved.Version, sha, saved.Revision, content) : null;
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Saves an accepted model as the one to serve at the next start, and removes older files.</summary>
    public void Save(string version, string sha256, long revision, byte[] content)
    {
        ArgumentNullException.ThrowIfNull(content);
        System.IO.Directory.CreateDirectory(Directory);
        var file = Path.Combine(Directory, sha256 + ".onnx");
        if (!File.Exists(file))
        {
            WriteDurably(file, content);
        }

        var pointer = Path.Combine(Directory, PointerName);
        WriteDurably(pointer, JsonSerializer.SerializeToUtf8Bytes(new Pointer(version, sha256, revision), JsonSerializerOptions.Web));

        // Keep the serving file and the one before it (a rollback target after a restart is fetched again anyway).
        foreach (var old in System.IO.Directory.EnumerateFiles(Directory, "*.onnx")
                     .Where(f => Path.GetFileName(f) != sha256 + ".onnx")
                     .OrderByDescending(File.GetLastWriteTimeUtc)
                     .Skip(1))
        {
            File.Delete(old);
        }
    }

    private static void WriteDurably(string path, byte[] content)
    {
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    private sealed record Pointer(string Version, string Sha256, long Revision);
}

/// <summary>A model saved by <see cref="ModelStore"/>.</summary>
public sealed record SavedModel(string Version, string Sha256, long Revision, byte[] Content);
