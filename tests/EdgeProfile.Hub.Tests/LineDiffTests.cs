using EdgeProfile.Hub.Ui;

namespace EdgeProfile.Hub.Tests;

/// <summary>The rule editor's line diff: applying it to the old text gives the new one, and it keeps what did not change.</summary>
public sealed class LineDiffTests
{
    [Theory]
    [InlineData("", "", "")]
    [InlineData("a\nb\nc", "a\nb\nc\n", " a| b| c")]
    [InlineData("a\nb\nc", "a\nx\nc\n", " a|-b|+x| c")]
    [InlineData("", "a\nb", "+a|+b")]
    [InlineData("a\nb", "", "-a|-b")]
    [InlineData("a\r\nb\r\n", "a\nb\nc", " a| b|+c")]
    [InlineData("x\na\nb", "a\nb\ny", "-x| a| b|+y")]
    public void Known_diffs(string before, string after, string expected)
    {
        var diff = LineDiff.Compute(before, after);
        Assert.Equal(expected, string.Join('|', diff.Select(d => d.Op + d.Line)));
    }

    [Fact]
    public void Random_texts_the_new_side_and_the_old_side_are_each_reproduced_and_common_lines_are_kept()
    {
        var random = new Random(17);
        for (var round = 0; round < 200; round++)
        {
            var a = Enumerable.Range(0, random.Next(0, 30)).Select(_ => "l" + random.Next(8)).ToList();
            var b = Enumerable.Range(0, random.Next(0, 30)).Select(_ => "l" + random.Next(8)).ToList();
            var diff = LineDiff.Compute(string.Join('\n', a), string.Join('\n', b));
            Assert.Equal(a, diff.Where(d => d.Op != '+').Select(d => d.Line));
            Assert.Equal(b, diff.Where(d => d.Op != '-').Select(d => d.Line));
            Assert.Equal(Lcs(a, b), diff.Count(d => d.Op == ' ')); // as few changes as possible
        }
    }

    private static int Lcs(List<string> a, List<string> b)
    {
        var t = new int[a.Count + 1, b.Count + 1];
        for (var i = a.Count - 1; i >= 0; i--)
        {
            for (var j = b.Count - 1; j >= 0; j--)
            {
                t[i, j] = a[i] == b[j] ? t[i + 1, j + 1] + 1 : Math.Max(t[i + 1, j], t[i, j + 1]);
            }
        }

        return t[0, 0];
    }
}
