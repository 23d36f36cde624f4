using System.Globalization;
using System.Text;

namespace EdgeProfile.Training.Distillation;

/// <summary>
/// One taught task on held-out rows: ROC AUC on the real labels of the student trained with the teacher, of the same
/// model trained without it (baseline), and of the teacher's own probability as a score; agreement with the rules =
/// the fraction of rows where (model probability ≥ 0.5) equals (one of the task's rules fired).
/// </summary>
public sealed record DistillationTaskReport(
    string Task,
    int Rows,
    double PositiveRate,
    double TeacherFiredRate,
    double TeacherAuc,
    double BaselineAuc,
    double StudentAuc,
    double BaselineAgreement,
    double StudentAgreement);

/// <summary>The comparison of a distilled student with its no-teacher baseline and with the rules, per taught task.</summary>
public sealed class DistillationReport
{
    private DistillationReport(IReadOnlyList<DistillationTaskReport> tasks) => Tasks = tasks;

    /// <summary>One entry per task the teacher teaches, in the teacher's order.</summary>
    public IReadOnlyList<DistillationTaskReport> Tasks { get; }

    /// <summary>
    /// Compares <paramref name="student"/> and <paramref name="baseline"/> predictions on <paramref name="test"/>
    /// (<see cref="MmoeModel.Predict"/> output, <c>[task][row][output]</c>, tasks named <paramref name="taskNames"/>)
    /// with its labels (AUC over the labelled rows) and with <paramref name="teacher"/>'s rules (agreement over all rows).
    /// </summary>
    public static DistillationReport Compute(
        RuleTeacher teacher, IReadOnlyList<string> taskNames, TrainingData test, float[][][] student, float[][][] baseline)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(taskNames);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(baseline);
        if (taskNames.Count != test.Labels.Count || student.Length != taskNames.Count || baseline.Length != taskNames.Count)
        {
            throw new ArgumentException("task names, labels and predictions must cover the same tasks");
        }

        var firings = teacher.Fire(test.Features);
        var rows = new List<DistillationTaskReport>();
        foreach (var task in teacher.Tasks)
        {
            var t = Enumerable.Range(0, taskNames.Count).FirstOrDefault(i => taskNames[i] == task.Name, -1);
            if (t < 0)
            {
                throw new ArgumentException($"the rules teach task {task.Name}, which the predictions do not have", nameof(taskNames));
            }
            if (student[t].Length != test.Rows || baseline[t].Length != test.Rows)
            {
                throw new ArgumentException($"task {task.Name}: predictions for {student[t].Length} / {baseline[t].Length} rows, the data has {test.Rows}");
            }

            var labels = test.Labels[t].Select(r => r[0]).ToArray();
            var mask = Enumerable.Range(0, test.Rows).Select(i => test.IsLabelled(t, i)).ToArray();
            var fired = teacher.Fired(task.Name, firings);
            var p = teacher.Probabilities(task.Name, firings);
            var s = student[t].Select(r => r[0]).ToArray();
            var b = baseline[t].Select(r => r[0]).ToArray();
            var labelled = mask.Count(m => m);
            rows.Add(new DistillationTaskReport(
                task.Name,
                test.Rows,
                labelled == 0 ? double.NaN : Enumerable.Range(0, test.Rows).Count(i => mask[i] && labels[i] > 0.5f) / (double)labelled,
                test.Rows == 0 ? double.NaN : fired.Count(f => f) / (double)test.Rows,
                Metrics.RocAuc(p, labels, mask),
                Metrics.RocAuc(b, labels, mask),
                Metrics.RocAuc(s, labels, mask),
                Agreement(b, fired),
                Agreement(s, fired)));
        }
        return new DistillationReport(rows);
    }

    /// <summary>The fraction of rows where (probability ≥ 0.5) equals <paramref name="fired"/>; NaN without rows.</summary>
    public static double Agreement(IReadOnlyList<float> probabilities, IReadOnlyList<bool> fired)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(fired);
        if (probabilities.Count != fired.Count)
        {
            throw new ArgumentException($"{probabilities.Count} probabilities for {fired.Count} rows", nameof(fired));
        }
        if (fired.Count == 0)
        {
            return double.NaN;
        }
        var agree = 0;
        for (var i = 0; i < fired.Count; i++)
        {
            agree += (probabilities[i] >= 0.5f) == fired[i] ? 1 : 0;
        }
        return agree / (double)fired.Count;
    }

    /// <summary>The report as a Markdown table, one row per task.</summary>
    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine("| task | rows | positive rate | rules fired | AUC no teacher | AUC with teacher | AUC teacher alone | agreement no teacher | agreement with teacher |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in Tasks)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Task} | {r.Rows} | {r.PositiveRate:F3} | {r.TeacherFiredRate:F3} | {r.BaselineAuc:F4} | {r.StudentAuc:F4} | {r.TeacherAuc:F4} | {r.BaselineAgreement:F3} | {r.StudentAgreement:F3} |"));
        }
        return text.ToString();
    }
}
