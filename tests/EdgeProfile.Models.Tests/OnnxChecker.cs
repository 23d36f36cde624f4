using System.Diagnostics;

namespace EdgeProfile.Models.Tests;

/// <summary>Runs the independent <c>onnx.checker</c> from Debian's python3-onnx on model files.</summary>
public static class OnnxChecker
{
    // Debian's interpreter explicitly: a pyenv python earlier on PATH would not see the apt-installed module.
    private const string Python = "/usr/bin/python3";

    /// <summary>Returns the checker's combined output; fails the test when python3-onnx is missing or a model is invalid.</summary>
    public static string CheckModels(params string[] paths)
    {
        Assert.True(File.Exists(Python), $"{Python} not found: install Debian's python3 and python3-onnx (apt-get install -y python3-onnx)");
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(
            "import sys\n" +
            "try:\n    import onnx\nexcept ImportError:\n    print('MISSING python3-onnx'); sys.exit(3)\n" +
            "for p in sys.argv[1:]:\n" +
            "    m = onnx.load(p)\n" +
            "    onnx.checker.check_model(m, full_check=True)\n" +
            "    print('ok', p, 'ir', m.ir_version, 'opset', m.opset_import[0].version, 'onnx', onnx.__version__)\n");
        foreach (var path in paths)
        {
            start.ArgumentList.Add(path);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(120_000), "onnx.checker did not finish within 120 s");
        string output = stdout.Result + stderr.Result;
        Assert.False(process.ExitCode == 3, "python3-onnx is not installed: run `apt-get install -y python3-onnx` (CI installs it)");
        Assert.True(process.ExitCode == 0, $"onnx.checker rejected the model(s):\n{output}");
        return output;
    }
}
