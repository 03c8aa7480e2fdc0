//! A syndicated story keeps every line, in every script, while the
//! furniture of the sites that carry it goes.
//!
//! Fifty sites each carry five wire stories (English, German, Russian,
//! Chinese, Japanese; some copies lightly edited) beside pages of their
//! own, all wrapped in the site's furniture. Each story's headline and
//! short paragraphs recur on fifty sites: counting documents would call
//! them boilerplate, counting distinct stories does not.

use crate::util::*;

const STORIES: [&[&str]; 5] = [
    &[
        "Port strike enters third day",
        "Dock workers stayed off the job on Monday as the strike at the eastern port entered its third day, the union said.",
        "“We will not back down,” said Maria Lopes.",
        "Ships waited offshore while talks between the union and the owners stalled over pay, night shifts and pensions.",
        "The owners said they had made a fair offer and urged the workers to return while negotiations went on.",
        "Talks resume on Friday.",
    ],
    &[
        "Streik im Hafen geht weiter",
        "Die Hafenarbeiter haben am Montag den dritten Tag in Folge die Arbeit niedergelegt, teilte die Gewerkschaft mit.",
        "„Wir geben nicht nach“, sagte Maria Lopes.",
        "Vor der Küste warten Schiffe, während die Gespräche zwischen der Gewerkschaft und den Eignern über Lohn und Renten stocken.",
        "Die Eigner erklärten, sie hätten ein faires Angebot gemacht, und forderten die Arbeiter auf, an die Arbeit zurückzukehren.",
        "Die Gespräche gehen am Freitag weiter.",
    ],
    &[
        "Забастовка в порту продолжается",
        "Портовые рабочие в понедельник третий день подряд не вышли на работу, сообщил профсоюз.",
        "«Мы не отступим», — сказала Мария Лопес.",
        "У берега ждут суда, пока переговоры профсоюза и владельцев о зарплате и пенсиях зашли в тупик.",
        "Владельцы заявили, что сделали честное предложение, и призвали рабочих вернуться, пока идут переговоры.",
        "Переговоры продолжатся в пятницу.",
    ],
    &[
        "港口罢工进入第三天",
        "工会表示，港口工人周一连续第三天罢工，数十艘船只在港外等待卸货。",
        "“我们不会让步。”玛丽亚·洛佩斯说。",
        "工会与船东之间关于工资、夜班和养老金的谈判陷入僵局，损失每天都在增加。",
        "船东表示，他们已经提出了公平的方案，并敦促工人在谈判期间返回工作岗位。",
        "谈判将于周五恢复。",
    ],
    &[
        "港湾ストが三日目に",
        "労働組合によると、港湾労働者は月曜日も仕事を休み、ストライキは三日目に入った。",
        "「私たちは引き下がらない」とマリア・ロペスさんは語った。",
        "賃金や夜勤、年金をめぐる組合と船主の交渉は行き詰まり、沖合では多くの船が荷揚げを待っている。",
        "船主側は公正な提案をしたと述べ、交渉が続く間は職場に戻るよう労働者に求めた。",
        "交渉は金曜日に再開される。",
    ],
];

const SUBJECTS: [&str; 8] = [
    "The council",
    "A local bakery",
    "The river authority",
    "Parents at the school",
    "The football club",
    "A new museum",
    "Bus drivers",
    "The hospital",
];
const VERBS: [&str; 8] =
    ["announced", "opposed", "welcomed", "postponed", "questioned", "celebrated", "planned", "reviewed"];
const OBJECTS: [&str; 8] = [
    "a plan to widen the old bridge",
    "the cost of the new car park",
    "longer opening hours over the summer",
    "a festival of music in the square",
    "changes to the school timetable",
    "the repairs to the flood wall",
    "a vote on the budget for next year",
    "the opening of a second clinic",
];

/// A site's own story: sentences that no other page shares.
fn own_story(site: usize, page: usize) -> Vec<String> {
    let n = site * 7 + page * 3;
    let mut lines = vec![format!("{} {} {}", SUBJECTS[n % 8], VERBS[(n / 8) % 8], OBJECTS[(n / 64) % 8])];
    for k in 0..4 {
        let m = n + k * 11 + 5;
        lines.push(format!(
            "{} {} {} on {} evening, and officials said that a decision about it would come after a meeting with {} residents in the spring of year {}.",
            SUBJECTS[m % 8],
            VERBS[(m / 3) % 8],
            OBJECTS[(m / 5) % 8],
            ["Monday", "Tuesday", "Wednesday", "Thursday"][k],
            20 + site + page,
            2000 + site * 10 + page,
        ));
    }
    lines
}

fn wrap(site: usize, body: &[String]) -> String {
    let name = format!("The Harbour Courier {site}");
    let mut lines = vec![format!("{name} | Home | World | Business | Sport"), "Menu".to_string()];
    lines.extend(body.iter().cloned());
    lines.extend([
        "Share this article".to_string(),
        format!("Follow {name} on X"),
        "Most read".to_string(),
        format!("© 2024 {name}. All rights reserved."),
    ]);
    lines.join("\n\n")
}

#[test]
fn a_story_syndicated_to_fifty_sites_loses_no_line_in_any_script() {
    let dir = Dir::new();
    let mut jsonl = String::new();
    let mut copies = Vec::new();
    for site in 0..50 {
        for page in 0..4 {
            let id = format!("own-{site}-{page}");
            let text = wrap(site, &own_story(site, page));
            jsonl.push_str(
                &serde_json::json!({"id": id, "site": format!("courier{site}.example"), "text": text}).to_string(),
            );
            jsonl.push('\n');
        }
        for (s, story) in STORIES.iter().enumerate() {
            let mut body: Vec<String> = story.iter().map(|l| l.to_string()).collect();
            // Every third copy is lightly edited, as sites do.
            if site % 3 == 0 {
                body[3] = body[3].replacen(' ', "  ", 1).replace("pay", "wages").replace("Lohn", "Löhne");
            }
            let id = format!("wire-{s}-{site}");
            let text = wrap(site, &body);
            jsonl.push_str(
                &serde_json::json!({"id": id, "site": format!("courier{site}.example"), "text": text}).to_string(),
            );
            jsonl.push('\n');
            copies.push((id, body));
        }
    }
    dir.write("news.jsonl", &jsonl);
    dir.ok(&["clean", "news.jsonl", "--out", "out", "-q", "--site-field", "site"]);
    let cleaned: std::collections::HashMap<String, String> = dir
        .json_lines("out/cleaned.jsonl")
        .into_iter()
        .map(|v| (v["id"].as_str().unwrap().to_string(), v["text"].as_str().unwrap().to_string()))
        .collect();
    let mut lost = Vec::new();
    for (id, body) in &copies {
        let kept: Vec<&str> = cleaned[id].lines().collect();
        for line in body {
            if !kept.contains(&line.as_str()) {
                lost.push(format!("{id}: {line}"));
            }
        }
    }
    let why: Vec<String> = dir
        .json_lines("out/removed.jsonl")
        .into_iter()
        .filter(|v| lost.iter().any(|l| l.starts_with(&format!("{}:", v["id"].as_str().unwrap_or("")))))
        .take(4)
        .map(|v| v.to_string())
        .collect();
    assert!(lost.is_empty(), "{} story lines lost, e.g. {:?}; cuts {why:#?}", lost.len(), &lost[..lost.len().min(8)]);
    // The furniture around them goes: learning still works.
    let furniture_left =
        cleaned.values().filter(|t| t.contains("All rights reserved") || t.contains("Share this article")).count();
    assert_eq!(furniture_left, 0, "furniture kept on {furniture_left} pages");
}
