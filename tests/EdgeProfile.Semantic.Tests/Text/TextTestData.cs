namespace EdgeProfile.Semantic.Tests.Text;

/// <summary>Locates the real data sets beside the repo (<c>../shared/data</c>) for the text-embedding tests.</summary>
internal static class TextTestData
{
    private static readonly Lazy<string> Dir = new(FindDataDir);

    /// <summary>The Google product taxonomy (en-US, 5,595 categories, "id - A &gt; B &gt; C" lines).</summary>
    public static string TaxonomyFile => Path.Combine(Dir.Value, "google-taxonomy", "taxonomy-with-ids.en-US.txt");

    /// <summary>The taxonomy's categories of at most <paramref name="maxDepth"/> levels: (id, path).</summary>
    public static IReadOnlyList<(string Id, string Path)> TaxonomyCategories(int maxDepth) =>
        [.. File.ReadLines(TaxonomyFile)
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split(" - ", 2))
            .Select(parts => (Id: parts[0].Trim(), Path: parts[1].Trim()))
            .Where(c => c.Path.Split(" > ").Length <= maxDepth)];

    private static string FindDataDir()
    {
        var env = Environment.GetEnvironmentVariable("EDGEPROFILE_DATA_DIR");
        if (!string.IsNullOrEmpty(env))
        {
            foreach (var candidate in new[] { env, Path.Combine(env, "data"), Path.Combine(env, "shared", "data") })
            {
                if (Directory.Exists(Path.Combine(candidate, "google-taxonomy")))
                {
                    return candidate;
                }
            }
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(Path.Combine(candidate, "google-taxonomy")))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException("No shared/data/google-taxonomy above " + AppContext.BaseDirectory + " and EDGEPROFILE_DATA_DIR is not set.");
    }
}
