namespace EdgeProfile.Synthesis.Tests;

/// <summary>
/// Where the real data sets and the repo's files are: <c>shared/data</c> lies beside the repo (../shared/data), so
/// walk up from the test's base directory to the first folder that holds it; the repo is the first folder with the solution.
/// </summary>
internal static class TestData
{
    private static readonly Lazy<string> SharedData = new(() =>
        Path.Combine(FindUp(d => Directory.Exists(Path.Combine(d, "shared", "data")), "a folder containing shared/data (the data sets beside the repo)"), "shared", "data"));

    private static readonly Lazy<string> Repo = new(() => FindUp(d => File.Exists(Path.Combine(d, "EdgeProfile.sln")), "the repo (EdgeProfile.sln)"));

    /// <summary>A file of a data set, e.g. <c>Dataset("online-retail", "online_retail_clean.csv.gz")</c>; fails clearly if absent.</summary>
    public static string Dataset(params string[] parts)
    {
        var path = Path.Combine([SharedData.Value, .. parts]);
        Assert.True(File.Exists(path), $"data set file {path} is missing: these tests read the shared data sets from ../shared/data beside the repo");
        return path;
    }

    /// <summary>A shipped mapping in deploy/synthesis.</summary>
    public static string Mapping(string name)
    {
        var path = Path.Combine(Repo.Value, "deploy", "synthesis", name);
        Assert.True(File.Exists(path), $"shipped mapping {path} is missing");
        return path;
    }

    private static string FindUp(Func<string, bool> found, string what)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (found(dir.FullName))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"could not find {what} above {AppContext.BaseDirectory}");
    }
}
