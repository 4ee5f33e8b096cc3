"""The starter library every municipality gets: ten templates for everyday municipal work.

Called from a data migration (``0002_starter_library``), which runs in every tenant schema, including the
schemas of municipalities created later, so the library is there from a tenant's first day. It takes the
migration's ``apps`` so it uses the historical model, and creates nothing when templates already exist.
"""

from __future__ import annotations

STARTER_TEMPLATES: list[dict[str, str]] = [
    {
        "title": "通知文・依頼文の作成",
        "category": "document",
        "description": "庁内外へ送る通知文・依頼文を、公用文の書き方で下書きします。",
        "body": (
            "あなたは地方自治体の文書担当職員です。次の内容で{{文書の種類}}を作成してください。\n\n"
            "【宛先】{{宛先}}\n"
            "【伝えたい内容】\n{{内容}}\n\n"
            "条件:\n"
            "- 公用文の書き方（「である」調ではなく「です・ます」調、常用漢字、算用数字）に沿うこと\n"
            "- 件名、前文（あいさつ）、本文、記書き（日時・場所・提出物・期限など該当するもの）、"
            "問い合わせ先の順に構成すること\n"
            "- 日付や担当者名など不明な箇所は【　】で空欄にし、推測で埋めないこと\n"
            "- 最後に、作成した文書で確認が必要な点を箇条書きで示すこと"
        ),
    },
    {
        "title": "資料の要約（要点3つ）",
        "category": "summary",
        "description": "長い資料や通知を、忙しい上司や同僚向けに短く要約します。",
        "body": (
            "次の資料を、{{読み手}}が1分で把握できるように要約してください。\n\n"
            "出力の形式:\n"
            "1. 結論（2文以内）\n"
            "2. 要点（3つ、各1行）\n"
            "3. 本市（本町村）の業務への影響や対応が必要なこと（あれば。なければ「特になし」）\n"
            "4. 期限や日付など、見落としてはいけない数字\n\n"
            "資料に書かれていないことは書かず、不明な点は「資料からは不明」としてください。\n\n"
            "【資料】\n{{資料本文}}"
        ),
    },
    {
        "title": "会議メモから議事録を作成",
        "category": "minutes",
        "description": "走り書きのメモから、決定事項と宿題が分かる議事録を作ります。",
        "body": (
            "次の会議メモから議事録を作成してください。\n\n"
            "【会議名】{{会議名}}\n"
            "【メモ】\n{{会議メモ}}\n\n"
            "形式:\n"
            "- 日時・場所・出席者（メモにあれば。なければ【　】）\n"
            "- 議題ごとの協議内容（発言者は役職名で、要点のみ）\n"
            "- 決定事項\n"
            "- 今後の対応（担当・期限を表にする。不明な場合は【要確認】）\n"
            "メモにない発言や結論を補わないでください。"
        ),
    },
    {
        "title": "住民向けのお知らせ文",
        "category": "notice",
        "description": "ホームページや回覧板に載せる、住民向けの分かりやすいお知らせを作ります。",
        "body": (
            "住民の皆さん向けに、{{お知らせの内容}}についてのお知らせ文を作成してください。\n\n"
            "主な対象: {{対象となる住民}}\n\n"
            "条件:\n"
            "- 見出し、いつ・どこで・だれが・何をするか、手続きや持ち物、問い合わせ先の順に書くこと\n"
            "- 専門用語や行政用語は言い換えるか、短い説明を添えること\n"
            "- 1文は60文字以内を目安に、箇条書きを活用すること\n"
            "- 電話番号・日付など不明な情報は【　】とし、作らないこと"
        ),
    },
    {
        "title": "やさしい日本語への書き換え",
        "category": "easy_japanese",
        "description": "外国人住民や子ども、高齢の方にも伝わる「やさしい日本語」に書き換えます。",
        "body": (
            "次の文章を「やさしい日本語」に書き換えてください。\n\n"
            "ルール:\n"
            "- 1つの文は短くし、1つの文で1つのことだけを言う\n"
            "- 難しい言葉は簡単な言葉に言い換える（例: 「提出してください」→「出してください」）\n"
            "- 漢字には（　）でふりがなを付ける\n"
            "- 日付・時間・場所・持ち物は箇条書きにする\n"
            "- 二重否定や敬語の使いすぎを避ける\n"
            "- 意味が変わらないようにし、大事な情報を省かない\n\n"
            "【元の文章】\n{{元の文章}}"
        ),
    },
    {
        "title": "多言語への翻訳",
        "category": "translation",
        "description": "住民向けの案内などを、指定した言語に翻訳します。",
        "body": (
            "次の日本語の文章を{{翻訳先の言語}}に翻訳してください。\n\n"
            "条件:\n"
            "- 行政の案内として自然で丁寧な表現にすること\n"
            "- 固有名詞（施設名・制度名）は、訳語の後に（　）で日本語の名称を残すこと\n"
            "- 日付・金額・電話番号は変えないこと\n"
            "- 最後に、訳しにくかった語や誤解されやすい点があれば日本語で注記すること\n\n"
            "【文章】\n{{翻訳する文章}}"
        ),
    },
    {
        "title": "Excel関数の相談",
        "category": "excel",
        "description": "やりたいことを伝えると、使う関数と数式、使い方を説明します。",
        "body": (
            "Excelで次のことをしたいです。使う関数と、そのまま貼り付けられる数式を教えてください。\n\n"
            "【やりたいこと】\n{{やりたいこと}}\n\n"
            "【表の構成（列と内容の例）】\n{{表の構成}}\n\n"
            "回答の形式:\n"
            "1. 数式（セル番地は上の表の構成に合わせる）\n"
            "2. 数式の意味を1行ずつ説明\n"
            "3. よくある間違いやエラー（#N/A など）の対処\n"
            "Microsoft 365 以外の古いExcelでも使える代わりの数式があれば、あわせて示してください。"
        ),
    },
    {
        "title": "企画書の骨子づくり",
        "category": "planning",
        "description": "新しい事業・取組の企画書の骨組みと、検討すべき論点を整理します。",
        "body": (
            "次の事業の企画書の骨子を作成してください。\n\n"
            "【事業名（仮）】{{事業名}}\n"
            "【背景・課題】\n{{背景と課題}}\n\n"
            "骨子の構成:\n"
            "1. 目的（住民にとっての効果）\n"
            "2. 現状と課題（根拠となるデータの例と、その入手先の候補）\n"
            "3. 事業内容（対象、実施方法、スケジュール案）\n"
            "4. 必要な予算・人員の考え方\n"
            "5. 成果指標（KPI）の案\n"
            "6. リスクと対応策、関係部署との調整事項\n"
            "数字や事例は推測で作らず、「要調査」と明記してください。"
        ),
    },
    {
        "title": "議会答弁案の作成",
        "category": "answer",
        "description": "議会での質問に対する答弁の下書きと、想定される再質問を作ります。",
        "body": (
            "市議会（町村議会）での次の質問に対する答弁案を作成してください。\n\n"
            "【質問の要旨】\n{{質問の要旨}}\n\n"
            "【本市（本町村）の現状・取組（分かっている事実）】\n{{現状と取組}}\n\n"
            "条件:\n"
            "- 答弁者は担当部長とし、「お答えいたします」で始める議会答弁の文体にすること\n"
            "- 現状、課題認識、今後の方針の順に、400〜600字程度にまとめること\n"
            "- 約束になりすぎない表現（「検討してまいります」等）を適切に使い分けること\n"
            "- 上に書かれていない事実や数字を作らないこと\n"
            "- 最後に、想定される再質問を3つと、その答弁の方向性を示すこと"
        ),
    },
    {
        "title": "広報紙・SNS向けの広報文",
        "category": "publicity",
        "description": "広報紙の記事と、SNS（X・LINE等）向けの短い告知文をまとめて作ります。",
        "body": (
            "次の内容について、広報文を作成してください。\n\n"
            "【伝える内容】\n{{伝える内容}}\n\n"
            "作成するもの:\n"
            "1. 広報紙の記事（見出し＋本文300字程度、住民が行動したくなる書き出し）\n"
            "2. SNS投稿文（140字以内、ハッシュタグ2つまで）\n"
            "3. LINE配信用の短い告知（100字以内）\n"
            "日時・場所・申込方法・問い合わせ先は正確に残し、不明な点は【　】としてください。"
        ),
    },
]


def seed_starter_library(apps, schema_editor=None) -> int:
    """Create the starter library in the current schema when it has no templates yet; returns how many."""
    template_model = apps.get_model("prompts", "PromptTemplate")
    if template_model.objects.exists():
        return 0
    template_model.objects.bulk_create(
        template_model(
            title=item["title"], category=item["category"], description=item["description"], body=item["body"],
            scope="tenant", recommended=True, owner=None,
        )
        for item in STARTER_TEMPLATES
    )
    return len(STARTER_TEMPLATES)
